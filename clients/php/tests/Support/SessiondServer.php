<?php

declare(strict_types=1);

namespace Sessiond\Tests\Support;

/**
 * One sessiond process of the tests' own on a free loopback port (memory store, warnings only).
 * SESSIOND_BIN names the binary; the default is the debug build of this repository.
 */
final class SessiondServer
{
    public const SHARED_URL_ENV = 'SESSIOND_PHPUNIT_SHARED_URL';

    public readonly string $url;
    public readonly int $port;

    /** @var resource */
    private $process;
    private readonly int $pid;
    private readonly string $logFile;
    private bool $paused = false;
    private bool $stopped = false;

    /** The sessiond the whole run shares (tests that do not stop or pause it). */
    public static function sharedUrl(): string
    {
        $url = getenv(self::SHARED_URL_ENV);
        if ($url === false || $url === '') {
            throw new \RuntimeException('the shared sessiond was not started (run the tests with phpunit and its bootstrap)');
        }
        return $url;
    }

    public static function binary(): string
    {
        $bin = getenv('SESSIOND_BIN');
        if ($bin === false || $bin === '') {
            $bin = dirname(__DIR__, 4) . '/.build/debug/sessiond';
        }
        if (!is_file($bin) || !is_executable($bin)) {
            throw new \RuntimeException("no sessiond binary at $bin: build it, or set SESSIOND_BIN to its path");
        }
        return $bin;
    }

    public static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
        if ($socket === false) {
            throw new \RuntimeException("cannot find a free port: $error");
        }
        $name = (string) stream_socket_get_name($socket, false);
        fclose($socket);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    /** Starts sessiond with these extra flags, and waits until /readyz answers (or fails). */
    public static function start(string ...$args): self
    {
        return new self($args, true);
    }

    /** Starts sessiond and waits only until it accepts connections (for a server that is not ready). */
    public static function startUnready(string ...$args): self
    {
        return new self($args, false);
    }

    /**
     * Starts sessiond on this port (that of a server stopped before, to restart it where its
     * clients look for it), trying again for a few seconds while the port is not free yet.
     */
    public static function startAt(int $port, string ...$args): self
    {
        for ($attempt = 1; ; $attempt++) {
            try {
                return new self($args, true, $port);
            } catch (\RuntimeException $error) {
                if ($attempt === 30) {
                    throw $error;
                }
                usleep(100_000);
            }
        }
    }

    /**
     * @param list<string> $args
     */
    private function __construct(array $args, bool $waitReady, ?int $port = null)
    {
        $bin = self::binary();
        $this->port = $port ?? self::freePort();
        $this->url = "http://127.0.0.1:{$this->port}";
        $this->logFile = (string) tempnam(sys_get_temp_dir(), 'sessiond-phpunit-');
        $command = [$bin, '--host', '127.0.0.1', '--port', (string) $this->port, '--store', 'memory', '--log-level', 'warning', ...$args];
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->logFile, 'w'], 2 => ['file', $this->logFile, 'a']], $pipes);
        if ($process === false) {
            throw new \RuntimeException("cannot start $bin");
        }
        $this->process = $process;
        $this->pid = (int) proc_get_status($process)['pid'];
        $deadline = microtime(true) + 15;
        while (true) {
            $status = self::probe($this->url . '/readyz');
            if ($status === 200 || (!$waitReady && $status !== null)) {
                return;
            }
            if (!proc_get_status($this->process)['running']) {
                $log = (string) file_get_contents($this->logFile);
                $this->stop();
                throw new \RuntimeException("sessiond exited at start: $log");
            }
            if (microtime(true) > $deadline) {
                $this->stop();
                throw new \RuntimeException('sessiond was not ready within 15 s');
            }
            usleep(20_000);
        }
    }

    /** The status of a GET, or null when nothing answered. */
    private static function probe(string $url): ?int
    {
        $curl = curl_init($url);
        curl_setopt_array($curl, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT_MS => 500, CURLOPT_PROXY => '', CURLOPT_NOSIGNAL => true]);
        $ok = curl_exec($curl);
        return $ok === false ? null : (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    }

    public function log(): string
    {
        return is_file($this->logFile) ? (string) file_get_contents($this->logFile) : '';
    }

    /** SIGSTOP: the process keeps its port and its sessions but answers nothing (every thread stopped). */
    public function pause(): void
    {
        posix_kill($this->pid, SIGSTOP);
        $this->paused = true;
        $deadline = microtime(true) + 5;
        while (microtime(true) < $deadline) {
            $states = [];
            foreach (glob("/proc/{$this->pid}/task/*/stat") ?: [] as $stat) {
                $text = @file_get_contents($stat);
                if ($text !== false) {
                    $states[] = explode(' ', trim(substr($text, strrpos($text, ')') + 1)))[0];
                }
            }
            if ($states !== [] && array_diff($states, ['T', 't']) === []) {
                return;
            }
            usleep(5_000);
        }
        throw new \RuntimeException('sessiond did not stop within 5 s');
    }

    public function resume(): void
    {
        posix_kill($this->pid, SIGCONT);
        $this->paused = false;
    }

    public function stop(): void
    {
        if ($this->stopped) {
            return;
        }
        $this->stopped = true;
        if ($this->paused) {
            $this->resume();
        }
        if (proc_get_status($this->process)['running']) {
            posix_kill($this->pid, SIGTERM);
            $deadline = microtime(true) + 10;
            while (proc_get_status($this->process)['running'] && microtime(true) < $deadline) {
                usleep(10_000);
            }
            if (proc_get_status($this->process)['running']) {
                posix_kill($this->pid, SIGKILL);
            }
        }
        proc_close($this->process);
        @unlink($this->logFile);
    }

    public function __destruct()
    {
        $this->stop();
    }
}
