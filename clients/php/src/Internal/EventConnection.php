<?php

declare(strict_types=1);

namespace Sessiond\Internal;

use Sessiond\Exception\UnavailableException;

/**
 * @internal one GET /events on a curl handle of its own, driven by a curl multi handle so that
 * the body is read as it comes: {@see open()} waits for the answer's head, {@see read()} hands
 * out the bytes that arrived. Nothing is read while neither is called (a consumer that does not
 * ask for events leaves them in the connection, and Sessiond cuts it off after 10 s).
 */
final class EventConnection
{
    private ?\CurlMultiHandle $multi;
    private ?\CurlHandle $curl;
    private string $buffer = '';
    private int $status = 0;
    /** @var array<string, string> */
    private array $headers = [];
    private bool $head = false;
    private bool $finished = false;
    private int $errno = 0;

    /**
     * @param array<int, mixed> $options the client's curl options: URL, headers, timeouts
     */
    public function __construct(array $options)
    {
        $this->curl = curl_init() ?: throw new UnavailableException('curl_init() failed');
        $this->multi = curl_multi_init();
        curl_setopt_array($this->curl, [
            CURLOPT_HTTPGET => true,
            CURLOPT_HEADERFUNCTION => function ($handle, string $line): int {
                if (preg_match('#^HTTP/\S+\s+(\d{3})#', $line, $match) === 1) {
                    $this->status = (int) $match[1]; // a new response (after an interim one)
                    $this->headers = [];
                } elseif (trim($line) === '') {
                    $this->head = $this->status >= 200;
                } elseif (($colon = strpos($line, ':')) !== false) {
                    $this->headers[strtolower(trim(substr($line, 0, $colon)))] = trim(substr($line, $colon + 1));
                }
                return strlen($line);
            },
            CURLOPT_WRITEFUNCTION => function ($handle, string $data): int {
                $this->buffer .= $data;
                return strlen($data);
            },
        ] + $options);
        curl_multi_add_handle($this->multi, $this->curl);
    }

    public function __destruct()
    {
        $this->close();
    }

    /**
     * Waits at most $timeout seconds for the answer's status and headers: the status, else
     * UnavailableException (no connection, or no answer in time).
     */
    public function open(float $timeout, string $where): int
    {
        $deadline = microtime(true) + $timeout;
        while (!$this->head) {
            if ($this->finished) {
                $error = $this->curl !== null ? curl_error($this->curl) : '';
                if ($error === '') {
                    $error = curl_strerror($this->errno) ?? 'no answer';
                }
                throw new UnavailableException("Sessiond cannot be reached: $where: $error (curl error {$this->errno})");
            }
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                throw new UnavailableException("Sessiond did not answer within $timeout s: $where");
            }
            $this->pump($left);
        }
        return $this->status;
    }

    /** @return array<string, string> the answer's headers (lowercase names) */
    public function headers(): array
    {
        return $this->headers;
    }

    /** The whole body of an answer that is not a stream (a problem), waiting at most $timeout s. */
    public function body(float $timeout): string
    {
        $deadline = microtime(true) + $timeout;
        while (!$this->finished && microtime(true) < $deadline && strlen($this->buffer) < 65536) {
            $this->pump($deadline - microtime(true));
        }
        [$body, $this->buffer] = [$this->buffer, ''];
        return $body;
    }

    /**
     * The bytes that came since the last call, waiting for some at most $idle seconds; null when
     * the stream ended, the connection broke, or nothing came in time.
     */
    public function read(float $idle): ?string
    {
        $deadline = microtime(true) + $idle;
        while (true) {
            if ($this->buffer !== '') {
                [$chunk, $this->buffer] = [$this->buffer, ''];
                return $chunk;
            }
            $left = $deadline - microtime(true);
            if ($this->finished || $left <= 0) {
                return null;
            }
            $this->pump($left);
        }
    }

    /** Closes the connection (the handle is not reused). */
    public function close(): void
    {
        if ($this->multi !== null && $this->curl !== null) {
            curl_multi_remove_handle($this->multi, $this->curl);
            curl_close($this->curl);
            curl_multi_close($this->multi);
        }
        $this->curl = null;
        $this->multi = null;
        $this->finished = true;
    }

    /** Lets curl work, waiting at most $wait seconds (and at most 1 s) for the socket. */
    private function pump(float $wait): void
    {
        if ($this->multi === null) {
            $this->finished = true;
            return;
        }
        $this->exec();
        if ($this->buffer !== '' || $this->finished) {
            return;
        }
        if (curl_multi_select($this->multi, max(0.0, min($wait, 1.0))) === -1) {
            usleep(1000); // nothing to wait on yet: try again shortly
        }
        $this->exec();
    }

    private function exec(): void
    {
        do {
            $status = curl_multi_exec($this->multi, $running);
        } while ($status === CURLM_CALL_MULTI_PERFORM);
        while (($info = curl_multi_info_read($this->multi)) !== false) {
            if ($info['msg'] === CURLMSG_DONE) {
                $this->finished = true;
                $this->errno = (int) $info['result'];
            }
        }
        if ($status !== CURLM_OK || $running === 0) {
            $this->finished = true;
        }
    }
}
