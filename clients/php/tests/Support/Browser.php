<?php

declare(strict_types=1);

namespace Sessiond\Tests\Support;

/**
 * Real HTTP through ext-curl with one cookie jar (curl's cookie engine, shared by every request
 * of this browser, concurrent ones included), as a browser sends it.
 */
final class Browser
{
    private \CurlShareHandle $share;

    public function __construct(public readonly string $baseUrl, public readonly string $cookieName = 'PHPSESSID')
    {
        $this->share = curl_share_init();
        curl_share_setopt($this->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    }

    /**
     * @param array<string, string> $form
     */
    public function request(string $method, string $path, array $form = []): Response
    {
        $headers = [];
        $curl = $this->handle($method, $path, $form, $headers);
        $body = curl_exec($curl);
        if (!is_string($body)) {
            throw new \RuntimeException("$method $path failed: " . curl_error($curl));
        }
        return new Response((int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE), $headers, $body);
    }

    public function get(string $path): Response
    {
        return $this->request('GET', $path);
    }

    /**
     * @param array<string, string> $form
     */
    public function post(string $path, array $form = []): Response
    {
        return $this->request('POST', $path, $form);
    }

    /**
     * Sends the requests at once (curl_multi) and returns their responses in the same order.
     *
     * @param list<array{0: string, 1: string, 2?: array<string, string>}> $requests [method, path, form]
     * @return list<Response>
     */
    public function concurrently(array $requests): array
    {
        $multi = curl_multi_init();
        $handles = [];
        $headers = [];
        foreach ($requests as $index => $request) {
            $headers[$index] = [];
            $handles[$index] = $this->handle($request[0], $request[1], $request[2] ?? [], $headers[$index]);
            curl_multi_add_handle($multi, $handles[$index]);
        }
        do {
            $status = curl_multi_exec($multi, $running);
            if ($running > 0) {
                curl_multi_select($multi, 0.1);
            }
        } while ($running > 0 && $status === CURLM_OK);
        $responses = [];
        foreach ($handles as $index => $curl) {
            $body = curl_multi_getcontent($curl);
            if (curl_errno($curl) !== 0 || !is_string($body)) {
                throw new \RuntimeException("request $index failed: " . curl_error($curl));
            }
            $responses[] = new Response((int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE), $headers[$index], $body);
            curl_multi_remove_handle($multi, $curl);
        }
        curl_multi_close($multi);
        return $responses;
    }

    /** The value of a cookie in the jar, or null. */
    public function cookie(?string $name = null): ?string
    {
        $name ??= $this->cookieName;
        $curl = curl_init();
        curl_setopt_array($curl, [CURLOPT_SHARE => $this->share, CURLOPT_COOKIEFILE => '']);
        $found = null;
        foreach (curl_getinfo($curl, CURLINFO_COOKIELIST) ?: [] as $line) {
            $fields = explode("\t", $line);
            $expired = (int) ($fields[4] ?? 0) !== 0 && (int) $fields[4] < time(); // listed until the next request drops it
            if (count($fields) >= 7 && $fields[5] === $name && !$expired) {
                $found = $fields[6];
            }
        }
        return $found;
    }

    /** Puts a cookie in the jar (replacing every other), as a browser holding it would send it. */
    public function setCookie(string $value, ?string $name = null): void
    {
        $curl = curl_init();
        curl_setopt_array($curl, [CURLOPT_SHARE => $this->share, CURLOPT_COOKIEFILE => '']);
        curl_setopt($curl, CURLOPT_COOKIELIST, 'ALL');
        $host = (string) parse_url($this->baseUrl, PHP_URL_HOST);
        curl_setopt($curl, CURLOPT_COOKIELIST, implode("\t", [$host, 'FALSE', '/', 'FALSE', '0', $name ?? $this->cookieName, $value]));
    }

    /**
     * @param array<string, string> $form
     * @param array<string, list<string>> $headers filled with the response's headers (lowercase names)
     */
    private function handle(string $method, string $path, array $form, array &$headers): \CurlHandle
    {
        $curl = curl_init($this->baseUrl . $path);
        $options = [
            CURLOPT_SHARE => $this->share,
            CURLOPT_COOKIEFILE => '',
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 30,
            CURLOPT_PROXY => '',
            CURLOPT_HEADERFUNCTION => static function ($handle, string $line) use (&$headers): int {
                if (($colon = strpos($line, ':')) !== false) {
                    $headers[strtolower(trim(substr($line, 0, $colon)))][] = trim(substr($line, $colon + 1));
                }
                return strlen($line);
            },
        ];
        if ($method === 'POST') {
            $options[CURLOPT_POSTFIELDS] = http_build_query($form);
        }
        curl_setopt_array($curl, $options);
        return $curl;
    }
}
