<?php

declare(strict_types=1);

namespace Sessiond;

use Sessiond\Exception\BadRequestException;
use Sessiond\Exception\InvalidSessionDataException;
use Sessiond\Exception\NotFoundException;
use Sessiond\Exception\PreconditionFailedException;
use Sessiond\Exception\ProblemException;
use Sessiond\Exception\SessionExistsException;
use Sessiond\Exception\SessionNotFoundException;
use Sessiond\Exception\UnauthorizedException;
use Sessiond\Exception\UnavailableException;
use Sessiond\Exception\UnprocessableContentException;
use Sessiond\Internal\EventConnection;
use Sessiond\Internal\Events;
use Sessiond\Internal\EventStreamParser;

/**
 * A client for the whole Sessiond API, on ext-curl.
 *
 *     $client = new Sessiond\Client('http://127.0.0.1:8080', apiKey: getenv('SESSIOND_API_KEY') ?: null);
 *     $s = $client->create(['user' => 42], permanent: true, subject: 'user-42');
 *     $s = $client->patch($s->sid, ['data' => ['cart' => [1, 2], 'flash' => null]]); // null removes
 *     $s = $client->get($s->sid, touch: true);
 *     $s = $client->rotate($s->sid);                          // at login: a new sid
 *     $client->revokeSubject('user-42', exceptHandle: $s->handle());
 *     $client->delete($s->sid);
 *
 * Every method sends one request on one curl handle that the client keeps, so the connection
 * is kept alive between calls (libcurl opens a new one when Sessiond has closed the idle one).
 * Errors are thrown as exceptions that carry the problem: see {@see Exception\ProblemException}
 * and {@see Exception\UnavailableException}. Messages name the route
 * ("PATCH http://127.0.0.1:8080/sessions/{sid}"), never a sid or a subject.
 */
final class Client
{
    public const VERSION = '0.1.0';

    /** A sid as Sessiond issues it: a lowercase canonical UUID. */
    public const SID_PATTERN = '/\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z/';

    private const JSON = 'application/json';
    private const MERGE_PATCH = 'application/merge-patch+json';
    private const JSON_FLAGS = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
        | JSON_PRESERVE_ZERO_FRACTION;

    public readonly string $url;
    private readonly string $basePath;
    private readonly string $origin;
    private readonly string $userAgent;
    private ?\CurlHandle $curl = null;

    /** Seconds of silence after which an event stream is reopened (tests shorten it). */
    private float $eventsIdleTimeout = Events::IDLE_TIMEOUT;

    /**
     * @param string      $url            Sessiond's base URL (http:// or https://, a path prefix is kept)
     * @param string|null $apiKey         sent as "Authorization: Bearer <apiKey>" on every call
     * @param float       $timeout        seconds a whole call may take (connect, send, answer);
     *                                    past it the call throws UnavailableException
     * @param float|null  $connectTimeout seconds to connect (default: $timeout)
     */
    public function __construct(
        string $url = 'http://127.0.0.1:8080',
        private readonly ?string $apiKey = null,
        public readonly float $timeout = 2.0,
        private readonly ?float $connectTimeout = null,
        ?string $userAgent = null,
    ) {
        $parts = parse_url($url);
        if ($parts === false || !in_array($parts['scheme'] ?? '', ['http', 'https'], true) || ($parts['host'] ?? '') === '') {
            throw new \InvalidArgumentException("Sessiond URL must be http:// or https:// with a host: $url");
        }
        if ($timeout <= 0 || ($connectTimeout !== null && $connectTimeout <= 0)) {
            throw new \InvalidArgumentException('timeouts must be positive numbers of seconds');
        }
        $this->url = rtrim($url, '/');
        $host = str_contains($parts['host'], ':') && !str_starts_with($parts['host'], '[') ? '[' . $parts['host'] . ']' : $parts['host'];
        $this->origin = $parts['scheme'] . '://' . $host . (isset($parts['port']) ? ':' . $parts['port'] : '');
        $this->basePath = rtrim($parts['path'] ?? '', '/');
        $this->userAgent = $userAgent ?? 'sessiond-php/' . self::VERSION . ' PHP/' . PHP_VERSION;
    }

    public function __destruct()
    {
        $this->close();
    }

    // MARK: - Ids

    /**
     * A new session id for create() with a sid: a random UUID version 4 from random_bytes(), the
     * only form Sessiond accepts there.
     *
     * Pass only ids minted this way by your own code, NEVER an id read from a cookie, a header or
     * any other part of a request: creating a session under an id the client chose is session
     * fixation.
     */
    public static function newSid(): string
    {
        $bytes = random_bytes(16);
        $bytes[6] = chr((ord($bytes[6]) & 0x0f) | 0x40);
        $bytes[8] = chr((ord($bytes[8]) & 0x3f) | 0x80);
        $hex = bin2hex($bytes);
        return substr($hex, 0, 8) . '-' . substr($hex, 8, 4) . '-' . substr($hex, 12, 4) . '-'
            . substr($hex, 16, 4) . '-' . substr($hex, 20);
    }

    /**
     * The handle Sessiond lists a session under: the first 128 bits of SHA-256 over
     * "sessiond-handle-v1:" and the sid, in hex. It cannot be turned back into the sid.
     */
    public static function handleFor(string $sid): string
    {
        return substr(hash('sha256', 'sessiond-handle-v1:' . $sid), 0, 32);
    }

    // MARK: - Sessions

    /**
     * A new session at version 1.
     *
     * Without $sid: POST /sessions, Sessiond chooses the sid. With $sid: PUT /sessions/{sid}
     * with "If-None-Match: *", the session is created under that id; SessionExistsException when
     * a live session has it (nothing changes), BadRequestException (malformed-sid) when it is not
     * a lowercase UUID version 4. Mint it with {@see newSid()}; never pass an id read from a
     * request (session fixation).
     *
     * @param array<array-key, mixed>|\stdClass $data     the session's JSON object
     * @param int|null                          $lifetime the session's own idle lifetime in
     *        whole seconds (at most the server's --max-lifetime, else UnprocessableContentException
     *        lifetime-too-long), or null for the one $permanent picks
     */
    public function create(
        array|\stdClass $data = [],
        bool $permanent = false,
        ?string $subject = null,
        ?int $lifetime = null,
        ?string $sid = null,
    ): Session {
        $body = ['data' => self::object($data), 'permanent' => $permanent];
        if ($subject !== null) {
            $body['subject'] = $subject;
        }
        if ($lifetime !== null) {
            $body['lifetime'] = $lifetime;
        }
        if ($sid === null) {
            return $this->session('POST', '/sessions', $body, self::JSON);
        }
        return $this->session('PUT', '/sessions/' . rawurlencode($sid), $body, self::JSON, ifNoneMatch: '*');
    }

    /** GET /sessions/{sid}; with $touch the read also slides the expiry. */
    public function get(string $sid, bool $touch = false): Session
    {
        return $this->session('GET', '/sessions/' . rawurlencode($sid) . ($touch ? '?touch=true' : ''));
    }

    /**
     * PUT /sessions/{sid}: replaces data, permanent, subject and lifetime whole (what is left out
     * is reset). With $ifMatch (a version, '*', entity tags or a list of versions) it applies only
     * at that version, else PreconditionFailedException. It never creates a session
     * (SessionNotFoundException); create() with a sid does.
     *
     * @param array<array-key, mixed>|\stdClass $data
     * @param int|string|list<int>|null         $ifMatch
     */
    public function replace(
        string $sid,
        array|\stdClass $data,
        bool $permanent = false,
        ?string $subject = null,
        ?int $lifetime = null,
        int|string|array|null $ifMatch = null,
    ): Session {
        $body = ['data' => self::object($data), 'permanent' => $permanent, 'subject' => $subject, 'lifetime' => $lifetime];
        return $this->session('PUT', '/sessions/' . rawurlencode($sid), $body, self::JSON, $ifMatch);
    }

    /**
     * PATCH /sessions/{sid} with an RFC 7396 merge patch, applied atomically by Sessiond:
     *
     *     $client->patch($sid, ['data' => ['cart' => [1, 2], 'flash' => null]]); // null removes a key
     *     $client->patch($sid, ['lifetime' => 600, 'subject' => 'user-42']);     // lifetime null clears it
     *
     * Members: data (merged into the session's data: null removes a key, objects merge, other
     * values replace), permanent, subject (null clears it), lifetime (seconds; null clears it).
     * What is not named is kept. PHP arrays that are lists are sent as JSON arrays, others as
     * objects; pass a \stdClass for an object whose keys would look like a list.
     *
     * @param array<string, mixed>|\stdClass $patch
     * @param int|string|list<int>|null      $ifMatch
     */
    public function patch(string $sid, array|\stdClass $patch, int|string|array|null $ifMatch = null): Session
    {
        $document = (array) $patch;
        if (array_key_exists('data', $document) && (is_array($document['data']) || $document['data'] instanceof \stdClass)) {
            $document['data'] = self::object($document['data']);
        }
        return $this->session('PATCH', '/sessions/' . rawurlencode($sid), self::object($document), self::MERGE_PATCH, $ifMatch);
    }

    /**
     * DELETE /sessions/{sid}: succeeds also when the session was already gone.
     *
     * @param int|string|list<int>|null $ifMatch
     */
    public function delete(string $sid, int|string|array|null $ifMatch = null): void
    {
        $this->request('DELETE', '/sessions/' . rawurlencode($sid), ifMatch: $ifMatch);
    }

    /**
     * POST /sessions/{sid}/touch: slides the expiry; writes nothing (same version).
     *
     * @param int|string|list<int>|null $ifMatch
     */
    public function touch(string $sid, int|string|array|null $ifMatch = null): Session
    {
        return $this->session('POST', '/sessions/' . rawurlencode($sid) . '/touch', ifMatch: $ifMatch);
    }

    /**
     * POST /sessions/{sid}/rotate: the same session (data, subject, lifetime, a version more)
     * under a new sid, returned; the old sid is gone at once. Call it at login.
     *
     * @param int|string|list<int>|null $ifMatch
     */
    public function rotate(string $sid, int|string|array|null $ifMatch = null): Session
    {
        return $this->session('POST', '/sessions/' . rawurlencode($sid) . '/rotate', ifMatch: $ifMatch);
    }

    // MARK: - Subjects

    /**
     * GET /subjects/{subject}/sessions: the subject's live sessions, oldest first.
     *
     * @return list<SessionSummary>
     */
    public function subjectSessions(string $subject): array
    {
        $body = $this->request('GET', '/subjects/' . rawurlencode($subject) . '/sessions');
        $entries = $body instanceof \stdClass && is_array($body->sessions ?? null) ? $body->sessions : [];
        $out = [];
        foreach ($entries as $entry) {
            if ($entry instanceof \stdClass) {
                $out[] = SessionSummary::fromJson($entry);
            }
        }
        return $out;
    }

    /**
     * DELETE /subjects/{subject}/sessions: ends every live session of the subject ("log out
     * everywhere"), or all but the one whose handle is $exceptHandle. Returns how many ended.
     */
    public function revokeSubject(string $subject, ?string $exceptHandle = null): int
    {
        $path = '/subjects/' . rawurlencode($subject) . '/sessions';
        if ($exceptHandle !== null) {
            $path .= '?except=' . rawurlencode($exceptHandle);
        }
        $body = $this->request('DELETE', $path);
        return $body instanceof \stdClass && is_int($body->revoked ?? null) ? $body->revoked : 0;
    }

    /** DELETE /subjects/{subject}/sessions/{handle}: ends one of the subject's sessions. */
    public function revokeHandle(string $subject, string $handle): void
    {
        $this->request('DELETE', '/subjects/' . rawurlencode($subject) . '/sessions/' . rawurlencode($handle));
    }

    // MARK: - Lifecycle events

    /**
     * GET /events: the namespace's session lifecycle events as they happen, for ever, as a
     * generator of {@see LifecycleEvent} items, and a {@see Missed} item where events were lost:
     *
     *     foreach ($client->events($lastId) as $item) {
     *         if ($item instanceof Sessiond\Missed) {
     *             resync();            // events were lost: rebuild what you derive from them
     *             continue;
     *         }
     *         audit($item->type, $item->handle, $item->subject, $item->time);
     *         $lastId = $item->id;     // keep it to resume after a restart of your own
     *     }
     *
     * Without $lastEventId the stream starts with the next event; with the id of an event, right
     * after it ('0': every event Sessiond still holds). The request is sent when the generator
     * starts (the first foreach step, current() or next()), on a connection of its own (not the
     * client's kept one, so the client's other calls work inside the loop); the answer must come
     * within the client's $timeout, the stream has none. Leaving the loop (or dropping the
     * generator) closes the connection.
     *
     * When the stream ends (Sessiond shut down) or its connection breaks (or sends nothing, not
     * even a keep-alive, for 45 s), it is reopened after the server's retry (1 s) with
     * Last-Event-ID set to the last id seen, so no event is skipped nor yielded twice; an attempt
     * that fails waits twice as long as the one before (at least a 503's Retry-After), up to
     * 30 s, for as long as it takes. The first request's failure is thrown as any call's
     * ({@see UnavailableException}, a {@see ProblemException}), and so is, at any time, an answer
     * that retrying cannot change: {@see BadRequestException} malformed-event-id,
     * {@see UnauthorizedException}, or a ProblemException of status 501 events-off (Sessiond run
     * with --event-history 0, or on Redis Cluster).
     *
     * The generator reads the connection only while it is asked for the next item: a loop body
     * so slow that events sent stay unread for 10 s (sessiond's --event-consumer-timeout) gets
     * the connection cut by Sessiond, and the stream then resumes after the last item yielded.
     *
     * @return \Generator<int, LifecycleEvent|Missed, mixed, never>
     */
    public function events(?string $lastEventId = null): \Generator
    {
        $where = $this->where('GET', '/events');
        $resume = $lastEventId;
        $retry = Events::DEFAULT_RETRY;
        $failures = 0;
        $opened = false;
        while (true) {
            $connection = null;
            try {
                try {
                    $connection = $this->openEvents($resume, $where);
                } catch (UnavailableException | ProblemException $error) {
                    if (!$opened || !Events::isTransient($error)) {
                        throw $error;
                    }
                    $failures++;
                    self::pause(Events::retryDelay($retry, $failures, $error));
                    continue;
                }
                $type = strtolower(trim(explode(';', $connection->headers()['content-type'] ?? '')[0]));
                if ($type !== 'text/event-stream') {
                    throw new UnavailableException(
                        'Sessiond answered 200 with ' . ($type !== '' ? $type : 'no media type') . ", not an event stream: $where",
                        null,
                        200,
                    );
                }
                $opened = true;
                $failures = 0;
                $parser = new EventStreamParser($resume ?? '');
                // null: the stream ended (Sessiond is shutting down), the connection broke, or it
                // stayed silent past the idle timeout
                while (($chunk = $connection->read($this->eventsIdleTimeout)) !== null) {
                    foreach ($parser->feed($chunk) as $frame) {
                        $resume = $frame->lastEventId;
                        yield Events::itemOf($frame, $where);
                    }
                }
                if ($parser->retry !== null) {
                    $retry = $parser->retry;
                }
            } finally {
                $connection?->close();
            }
            self::pause(Events::retryDelay($retry, 0));
        }
    }

    /** Sends GET /events: the connection once its answer is 200, else the answer's error. */
    private function openEvents(?string $lastEventId, string $where): EventConnection
    {
        $headers = [
            'Accept: text/event-stream',
            'Cache-Control: no-cache',
            'User-Agent: ' . $this->userAgent,
            'Expect:',
        ];
        if ($this->apiKey !== null && $this->apiKey !== '') {
            $headers[] = 'Authorization: Bearer ' . $this->apiKey;
        }
        if ($lastEventId !== null && $lastEventId !== '') {
            $headers[] = 'Last-Event-ID: ' . $lastEventId;
        }
        $connection = new EventConnection([
            CURLOPT_URL => $this->origin . $this->basePath . '/events',
            CURLOPT_HTTPHEADER => $headers,
        ] + $this->transport());
        try {
            $status = $connection->open($this->timeout, $where);
            if ($status !== 200) {
                throw self::problem($status, $connection->headers(), $connection->body($this->timeout), $where);
            }
            return $connection;
        } catch (\Throwable $error) {
            $connection->close();
            throw $error;
        }
    }

    private static function pause(float $seconds): void
    {
        usleep((int) ($seconds * 1_000_000));
    }

    // MARK: - Operations

    /** GET /readyz: true when Sessiond and its store answer. */
    public function ready(): bool
    {
        try {
            $this->request('GET', '/readyz', parse: false);
            return true;
        } catch (Exception\SessiondException) {
            return false;
        }
    }

    /** Closes the kept connection (the client stays usable and opens a new one when needed). */
    public function close(): void
    {
        $this->curl = null;
    }

    // MARK: - HTTP

    /**
     * @param int|string|list<int>|null $ifMatch
     */
    private function session(
        string $method,
        string $path,
        mixed $body = null,
        string $contentType = self::JSON,
        int|string|array|null $ifMatch = null,
        ?string $ifNoneMatch = null,
    ): Session {
        $answer = $this->request($method, $path, $body, $contentType, $ifMatch, $ifNoneMatch);
        if (!$answer instanceof \stdClass || !is_string($answer->sid ?? null)) {
            throw new UnavailableException("Sessiond answered without a session: {$this->where($method, $path)}");
        }
        return Session::fromJson($answer);
    }

    /**
     * One request; the decoded JSON answer (objects as stdClass), or null for an empty one.
     *
     * @param int|string|list<int>|null $ifMatch
     */
    private function request(
        string $method,
        string $path,
        mixed $body = null,
        string $contentType = self::JSON,
        int|string|array|null $ifMatch = null,
        ?string $ifNoneMatch = null,
        bool $parse = true,
    ): mixed {
        $where = $this->where($method, $path);
        $headers = [
            'Accept: application/json, application/problem+json',
            'User-Agent: ' . $this->userAgent,
            'Expect:', // no 100-continue round trip for larger bodies
        ];
        if ($this->apiKey !== null && $this->apiKey !== '') {
            $headers[] = 'Authorization: Bearer ' . $this->apiKey;
        }
        if ($ifMatch !== null) {
            $headers[] = 'If-Match: ' . self::ifMatch($ifMatch);
        }
        if ($ifNoneMatch !== null) {
            $headers[] = 'If-None-Match: ' . $ifNoneMatch;
        }
        $payload = null;
        if ($body !== null) {
            try {
                $payload = json_encode($body, self::JSON_FLAGS);
            } catch (\JsonException $error) {
                throw new InvalidSessionDataException(
                    "a value cannot be sent to Sessiond, which keeps strict JSON (no NAN or INF, UTF-8 strings only): {$error->getMessage()}",
                    0,
                    $error,
                );
            }
            $headers[] = 'Content-Type: ' . $contentType;
        } elseif (in_array($method, ['POST', 'PUT', 'PATCH'], true)) {
            $payload = '';
            $headers[] = 'Content-Type:'; // curl would send a form type with an empty body
        }

        $curl = $this->curl ??= curl_init() ?: throw new UnavailableException('curl_init() failed');
        curl_reset($curl); // keeps the connection cache: the kept-alive connection is reused
        $responseHeaders = [];
        $options = [
            CURLOPT_URL => $this->origin . $this->basePath . $path,
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HEADERFUNCTION => static function ($handle, string $line) use (&$responseHeaders): int {
                if (str_starts_with($line, 'HTTP/')) {
                    $responseHeaders = []; // a new response (after an interim one)
                } elseif (($colon = strpos($line, ':')) !== false) {
                    $responseHeaders[strtolower(trim(substr($line, 0, $colon)))] = trim(substr($line, $colon + 1));
                }
                return strlen($line);
            },
            CURLOPT_TIMEOUT_MS => (int) ceil($this->timeout * 1000),
        ] + $this->transport();
        if ($payload !== null) {
            $options[CURLOPT_POSTFIELDS] = $payload;
        }
        curl_setopt_array($curl, $options);
        $raw = curl_exec($curl);
        if (!is_string($raw)) {
            $errno = curl_errno($curl);
            $error = curl_error($curl);
            $this->curl = null; // a fresh handle next time
            if ($errno === CURLE_OPERATION_TIMEDOUT) {
                throw new UnavailableException("Sessiond did not answer within {$this->timeout} s: $where");
            }
            throw new UnavailableException("Sessiond cannot be reached: $where: $error (curl error $errno)");
        }
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);

        if ($status >= 200 && $status < 300) {
            if (!$parse || $status === 204 || $raw === '') {
                return null;
            }
            try {
                return json_decode($raw, false, 512, JSON_THROW_ON_ERROR);
            } catch (\JsonException $error) {
                throw new UnavailableException("Sessiond answered $status with a body that is not JSON: $where", null, $status, [], $error);
            }
        }
        throw self::problem($status, $responseHeaders, $raw, $where);
    }

    /**
     * The curl options of every request: HTTP/1.1, the connect timeout, no proxy, no redirects.
     *
     * @return array<int, mixed>
     */
    private function transport(): array
    {
        return [
            CURLOPT_HTTP_VERSION => CURL_HTTP_VERSION_1_1,
            CURLOPT_CONNECTTIMEOUT_MS => (int) ceil(($this->connectTimeout ?? $this->timeout) * 1000),
            CURLOPT_NOSIGNAL => true,
            CURLOPT_PROXY => '', // never an http_proxy from the environment
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_TCP_NODELAY => true,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
        ];
    }

    /** "PATCH http://host:port/sessions/{sid}": the route, never the sid or the subject. */
    private function where(string $method, string $path): string
    {
        $route = explode('?', $path, 2)[0];
        $route = (string) preg_replace('#/sessions/[^/]+#', '/sessions/{sid}', $route);
        $route = (string) preg_replace('#/subjects/[^/]+#', '/subjects/{subject}', $route);
        return "$method {$this->url}$route";
    }

    /**
     * @param array<string, string> $headers
     */
    private static function problem(int $status, array $headers, string $raw, string $where): \Throwable
    {
        $body = [];
        if (str_contains($headers['content-type'] ?? '', 'json')) {
            $decoded = json_decode($raw, true);
            if (is_array($decoded)) {
                $body = $decoded;
            }
        }
        $type = is_string($body['type'] ?? null) ? $body['type'] : 'about:blank';
        $title = is_string($body['title'] ?? null) ? $body['title'] : null;
        $detail = is_string($body['detail'] ?? null) ? $body['detail'] : null;
        if ($body === [] && trim($raw) !== '') {
            $detail = substr(trim($raw), 0, 200);
        }
        if (in_array($status, [502, 503, 504], true)) {
            $message = "Sessiond is unavailable ($status" . ($title !== null ? " $title" : '') . ')'
                . ($detail !== null ? ": $detail" : '') . ": $where";
            return new UnavailableException($message, self::retryAfter($headers['retry-after'] ?? null), $status, $body);
        }
        $slug = str_starts_with($type, ProblemException::TYPE_PREFIX) ? substr($type, strlen(ProblemException::TYPE_PREFIX)) : '';
        $class = match (true) {
            $status === 400 => BadRequestException::class,
            $status === 401 => UnauthorizedException::class,
            $status === 404 && $slug === 'session-not-found' => SessionNotFoundException::class,
            $status === 404 => NotFoundException::class,
            $status === 412 && $slug === 'session-exists' => SessionExistsException::class,
            $status === 412 => PreconditionFailedException::class,
            $status === 422 => UnprocessableContentException::class,
            default => ProblemException::class,
        };
        return new $class($status, $type, $title, $detail, $body, $headers, $where);
    }

    private static function retryAfter(?string $value): ?int
    {
        if ($value === null || $value === '') {
            return null;
        }
        if (ctype_digit($value)) {
            return (int) $value;
        }
        $when = strtotime($value);
        return $when === false ? null : max(0, $when - time());
    }

    /**
     * @param int|string|list<int> $value
     */
    private static function ifMatch(int|string|array $value): string
    {
        if (is_int($value)) {
            return '"' . $value . '"';
        }
        if (is_array($value)) {
            if ($value === []) {
                throw new \InvalidArgumentException('ifMatch: an empty list of versions');
            }
            return implode(', ', array_map(static fn ($v): string => self::ifMatch($v), $value));
        }
        if ($value === '*' || str_starts_with($value, '"') || str_starts_with($value, 'W/')) {
            return $value;
        }
        if (ctype_digit($value)) {
            return '"' . $value . '"';
        }
        throw new \InvalidArgumentException('ifMatch takes a version (int), "*", an entity tag or a list of versions');
    }

    /**
     * A JSON object of session data: an array's keys become members (a list too), a stdClass is
     * kept as it is.
     *
     * @param array<array-key, mixed>|\stdClass $data
     */
    private static function object(array|\stdClass $data): \stdClass
    {
        return $data instanceof \stdClass ? $data : (object) $data;
    }
}
