<?php

declare(strict_types=1);

namespace Sessiond;

use Sessiond\Exception\BadRequestException;
use Sessiond\Exception\ConfigurationException;
use Sessiond\Exception\PreconditionFailedException;
use Sessiond\Exception\SessiondException;
use Sessiond\Exception\SessionNotFoundException;
use Sessiond\Exception\UnavailableException;
use Sessiond\Internal\Json;
use Sessiond\Internal\Missing;
use Sessiond\Internal\NotMergeable;
use Sessiond\Internal\SessionState;

/**
 * PHP's native sessions ($_SESSION, session_start()...) kept in Sessiond:
 *
 *     session_set_save_handler(new Sessiond\SessionHandler('http://127.0.0.1:8080', apiKey: '...'), true);
 *     session_start();
 *
 * - Ids are Sessiond's: create_sid() creates the session in Sessiond (POST /sessions). With
 *   session.use_strict_mode (which the handler requires and sets), validateId() makes PHP
 *   refuse an id that Sessiond does not know, so a planted or stale cookie is never adopted.
 * - Data is a plain JSON object of the $_SESSION keys, readable from any language
 *   (session.serialize_handler = php_serialize, which the handler requires and sets; what PHP
 *   serializes is unserialized with allowed_classes = false and turned into JSON, and objects,
 *   NAN/INF and non-UTF-8 strings are refused with an InvalidSessionDataException).
 * - write() sends only the keys that changed since read() (one merge patch, applied atomically),
 *   so two requests of one user that change different keys both keep their change.
 *   updateTimestamp() (session.lazy_write) is a touch. Storing null (which a merge patch cannot
 *   say) is a PUT with If-Match on the version read, re-applied if another request wrote between.
 * - session_regenerate_id(true) is Sessiond's rotate: data, subject, lifetime and version carry
 *   over, the old id is dead at once. session_regenerate_id(false) keeps the old session, as PHP
 *   does, and starts the new one as a copy. session_destroy() deletes the session.
 * - gc() does nothing (Sessiond expires sessions itself); session.gc_maxlifetime becomes each
 *   session's own lifetime in Sessiond (option $lifetime).
 * - When Sessiond is down: fail closed by default (session_start() and the other session
 *   functions throw UnavailableException), or fail open ($failOpen: an empty session that is
 *   never saved, and a logged warning).
 */
final class SessionHandler implements \SessionHandlerInterface, \SessionIdInterface, \SessionUpdateTimestampHandlerInterface
{
    private const REGENERATING = ['session_regenerate_id', 'session_create_id'];
    private const SESSION_FUNCTIONS = [
        'session_start', 'session_regenerate_id', 'session_create_id', 'session_destroy',
        'session_write_close', 'session_commit', 'session_reset', 'session_abort', 'session_gc',
    ];

    private readonly Client $client;

    /** @var (\Closure(string, string): void) */
    private readonly \Closure $log;

    /** The session PHP has open (read() made it current). */
    private ?SessionState $current = null;

    /** @var array<string, SessionState> sessions made by create_sid() or a rotation, not yet read */
    private array $prepared = [];

    /** @var array<string, Session|Missing> what validateId() found, for read(); Missing: unavailable */
    private array $validated = [];

    /**
     * @var array<string, SessiondException> errors of validateId() and create_sid(), thrown by
     * read(): PHP turns an exception thrown in those two into its own Error ("Session id must be
     * a string"), so they return, and read() throws the exception itself from session_start().
     */
    private array $deferred = [];

    /** The sid a rotation in destroy() gave, for the create_sid() that follows. */
    private ?string $rotatedTo = null;

    private string|null|Missing $subjectChange = Missing::Value;

    /**
     * @param Client|string   $sessiond  a Client, or Sessiond's base URL
     * @param string|null     $apiKey    sent as "Authorization: Bearer <apiKey>" (with a URL)
     * @param float           $timeout   seconds a call to Sessiond may take (with a URL)
     * @param bool            $failOpen  false (the default): when Sessiond cannot be reached or
     *        answers 503, the session functions throw UnavailableException (session_start() too),
     *        so the request fails. true: the request goes on with an empty session that is never
     *        saved (so it cannot overwrite the user's real one), and a warning is logged.
     * @param int|false|null  $lifetime  each session's own idle lifetime in Sessiond, in seconds:
     *        null (the default) takes session.gc_maxlifetime, an int is that, false leaves
     *        lifetimes alone (Sessiond's --lifetime applies). It must not exceed Sessiond's
     *        --max-lifetime (31 days by default).
     * @param int             $conflictRetries how often a conditional write (storing null) is
     *        re-applied when other requests keep writing in between
     * @param callable|object|null $logger a PSR-3 logger (anything with log($level, $message)),
     *        or a callable(string $level, string $message); default: error_log()
     * @param bool            $configure sets session.serialize_handler = php_serialize and
     *        session.use_strict_mode = 1 (needed; open() checks them) when no session is active
     */
    public function __construct(
        Client|string $sessiond = 'http://127.0.0.1:8080',
        ?string $apiKey = null,
        float $timeout = 2.0,
        private readonly bool $failOpen = false,
        private readonly int|false|null $lifetime = null,
        private readonly int $conflictRetries = 5,
        callable|object|null $logger = null,
        bool $configure = true,
    ) {
        $this->client = $sessiond instanceof Client ? $sessiond : new Client($sessiond, $apiKey, $timeout);
        if (is_int($lifetime) && $lifetime < 1) {
            throw new \InvalidArgumentException('lifetime must be whole seconds from 1, null (session.gc_maxlifetime) or false');
        }
        $this->log = match (true) {
            $logger === null => static function (string $level, string $message): void {
                error_log("sessiond session handler: $level: $message");
            },
            is_callable($logger) => \Closure::fromCallable($logger),
            method_exists($logger, 'log') => static function (string $level, string $message) use ($logger): void {
                $logger->log($level, $message);
            },
            default => throw new \InvalidArgumentException('logger must be a PSR-3 logger or a callable(string $level, string $message)'),
        };
        if ($configure && session_status() !== PHP_SESSION_ACTIVE) {
            if (ini_get('session.serialize_handler') !== 'php_serialize') {
                ini_set('session.serialize_handler', 'php_serialize');
            }
            if (!filter_var(ini_get('session.use_strict_mode'), FILTER_VALIDATE_BOOLEAN)) {
                ini_set('session.use_strict_mode', '1');
            }
        }
    }

    /** The client this handler talks to Sessiond with (for subjects, rotation by hand...). */
    public function client(): Client
    {
        return $this->client;
    }

    /**
     * Says whose session this is (your user id, 1 to 256 bytes; null for nobody), so that
     * Client::subjectSessions() lists it and Client::revokeSubject() ends it ("log out
     * everywhere"). Written with the session at the end of the request (or session_write_close()).
     */
    public function setSubject(?string $subject): void
    {
        $this->subjectChange = $subject;
    }

    /** The subject of the open session (with a setSubject() not yet written), or null. */
    public function subject(): ?string
    {
        return $this->subjectChange instanceof Missing ? $this->current?->subject : $this->subjectChange;
    }

    /** Fail-open only: true when Sessiond was unavailable and the open session is empty and will not be saved. */
    public function isUnavailable(): bool
    {
        return $this->current?->unavailable ?? false;
    }

    // MARK: - SessionHandlerInterface

    public function open(string $path, string $name): bool
    {
        if (ini_get('session.serialize_handler') !== 'php_serialize') {
            throw new ConfigurationException(
                'Sessiond\SessionHandler needs session.serialize_handler = php_serialize (it keeps $_SESSION as a JSON '
                . 'object); it is "' . ini_get('session.serialize_handler') . '". Set it in php.ini, or construct the handler before session_start().'
            );
        }
        if (!filter_var(ini_get('session.use_strict_mode'), FILTER_VALIDATE_BOOLEAN)) {
            throw new ConfigurationException(
                'Sessiond\SessionHandler needs session.use_strict_mode = 1, so that PHP never adopts a session id '
                . 'Sessiond does not know (session fixation). Set it in php.ini, or construct the handler before session_start().'
            );
        }
        return true;
    }

    public function close(): bool
    {
        return true;
    }

    public function read(string $id): string|false
    {
        if (isset($this->deferred[$id])) {
            $error = $this->deferred[$id];
            unset($this->deferred[$id], $this->validated[$id], $this->prepared[$id]);
            throw $error;
        }
        if (isset($this->prepared[$id])) {
            // Made by create_sid() (or a rotation) in this request.
            $this->current = $this->prepared[$id];
            unset($this->prepared[$id]);
            return $this->current->unavailable ? '' : serialize($this->current->baseline);
        }
        $found = $this->validated[$id] ?? null;
        unset($this->validated[$id]);
        if ($found === null) {
            $found = $this->fetch($id);
        }
        if ($found instanceof Missing) {
            $this->current = new SessionState($id);
            $this->current->unavailable = true;
            return '';
        }
        if ($found === null) {
            // Gone since validateId() (or PHP asked for an id it did not validate): an empty
            // session that is never stored under this id.
            $this->current = new SessionState($id);
            $this->current->missing = true;
            return '';
        }
        $this->current = SessionState::of($found, false);
        return serialize($this->current->baseline);
    }

    public function write(string $id, string $data): bool
    {
        $state = $this->stateFor($id);
        $new = self::decode($data);
        if ($state === null) {
            ($this->log)('error', 'write() for a session this handler did not read; nothing was saved');
            return true;
        }
        if ($state->unavailable) {
            if ($new !== $state->baseline) {
                ($this->log)('error', 'Sessiond was unavailable when this session was opened, so the changes this request made to it were not saved');
            }
            return true;
        }

        // Every changed value is checked (and turned into JSON) before anything is sent.
        $changed = [];
        foreach ($new as $key => $value) {
            if (array_key_exists($key, $state->baseline) && $state->baseline[$key] === $value) {
                continue;
            }
            $name = Json::key($key, '$_SESSION');
            $old = property_exists($state->stored, $name) ? $state->stored->{$name} : Missing::Value;
            $changed[$name] = Json::fromPhp($value, '$_SESSION[' . var_export($key, true) . ']', $old);
        }
        $removed = [];
        foreach ($state->baseline as $key => $_) {
            if (!array_key_exists($key, $new)) {
                $removed[] = (string) $key;
            }
        }

        if ($state->missing) {
            if ($changed !== [] || $removed !== []) {
                ($this->log)('warning', 'the session was gone (logged out, revoked or expired) when this request saved it; '
                    . 'its changes are dropped, and it is not recreated under the same id');
            }
            return true;
        }

        try {
            $document = $this->metaChanges($state);
            try {
                $patch = new \stdClass();
                foreach ($removed as $name) {
                    $patch->{$name} = null;
                }
                foreach ($changed as $name => $value) {
                    $old = property_exists($state->stored, (string) $name) ? $state->stored->{$name} : Missing::Value;
                    $member = Json::memberPatch($old, $value);
                    if (!$member instanceof Missing) {
                        $patch->{$name} = $member;
                    }
                }
                if (get_object_vars($patch) !== []) {
                    $document['data'] = $patch;
                }
                if ($document === []) {
                    $this->slide($state);
                } else {
                    $state->adopt($this->client->patch($id, $document));
                    $state->slid = true;
                }
            } catch (NotMergeable) {
                $this->replaceRebased($state, $changed, $removed);
            }
        } catch (SessionNotFoundException) {
            $state->missing = true;
            ($this->log)('warning', 'the session was gone (logged out, revoked or expired) when this request saved it; '
                . 'its changes are dropped, and it is not recreated under the same id');
            return true;
        } catch (UnavailableException $error) {
            return $this->unavailable($error, 'the changes this request made to the session were not saved', 'error');
        }
        $state->baseline = $new;
        $this->subjectChange = Missing::Value;
        return true;
    }

    public function destroy(string $id): bool
    {
        unset($this->validated[$id], $this->prepared[$id]);
        $state = $this->stateFor($id);
        if (self::calledFrom() === 'session_regenerate_id') {
            // session_regenerate_id(true): PHP destroys the old id, then asks create_sid() for
            // the new one, reads it (and drops what read() returns: $_SESSION is kept), and
            // writes $_SESSION under it when the request ends. The old session is rotated
            // here instead: same data, subject, lifetime (and a version more) under a new sid
            // that create_sid() hands to PHP; the old sid is dead at once. The write then sends
            // what this request changed since it read the old one, as for any write.
            $this->current = null;
            if ($state === null || $state->missing || $state->unavailable) {
                return true; // create_sid() makes a new session, and the write stores all of $_SESSION
            }
            try {
                $rotated = $this->client->rotate($id);
            } catch (SessionNotFoundException) {
                return true; // gone meanwhile: as above
            } catch (UnavailableException $error) {
                $this->unavailable($error, 'the session id could not be regenerated', 'error');
                return false;
            }
            $state->adopt($rotated);
            $state->slid = true;
            $this->prepared[$rotated->sid] = $state;
            $this->rotatedTo = $rotated->sid;
            return true;
        }
        try {
            $this->client->delete($id);
        } catch (UnavailableException $error) {
            $this->unavailable($error, 'the session could not be deleted (it is still valid)', 'error');
            return false;
        }
        if ($state !== null) {
            $this->current = null;
        }
        return true;
    }

    public function gc(int $max_lifetime): int|false
    {
        return 0; // Sessiond expires sessions itself
    }

    // MARK: - SessionIdInterface

    public function create_sid(): string
    {
        if ($this->rotatedTo !== null) {
            $sid = $this->rotatedTo;
            $this->rotatedTo = null;
            return $sid;
        }
        $source = self::calledFrom() === 'session_regenerate_id' ? $this->current : null;
        try {
            if ($source !== null && !$source->missing && !$source->unavailable) {
                // session_regenerate_id(false): PHP keeps the old session (it was just written);
                // the new one starts as a copy of it.
                $session = $this->client->create($source->stored, $source->permanent, $source->subject, $source->lifetime);
                $state = SessionState::of($session, true);
                $state->baseline = $source->baseline;
            } else {
                // A new session, empty: its sid is Sessiond's. Its baseline is empty, so the
                // write at the end of the request stores every key of $_SESSION.
                $session = $this->client->create([], lifetime: $this->desiredLifetime());
                $state = SessionState::of($session, true);
            }
        } catch (SessiondException $error) {
            $sid = Client::newSid(); // never stored: it only carries the error to read(), or fail-open's empty session
            if (!$error instanceof UnavailableException || !$this->failOpen) {
                $this->deferred[$sid] = $error;
                return $sid;
            }
            $this->unavailable($error, 'this request runs with an empty session that will not be saved');
            $state = new SessionState($sid);
            $state->unavailable = true;
        }
        $this->prepared[$state->sid] = $state;
        return $state->sid;
    }

    // MARK: - SessionUpdateTimestampHandlerInterface

    public function validateId(string $id): bool
    {
        if (preg_match(Client::SID_PATTERN, $id) !== 1) {
            return false;
        }
        if (isset($this->prepared[$id]) || isset($this->deferred[$id])) {
            // Made by create_sid() in this request. session_regenerate_id() and
            // session_create_id() ask right after it whether the id collides with an existing
            // session: it does not (it is new, and ours). Asked by session_start() (after
            // session_create_id() and session_id()), it exists (or read() throws its error).
            return !in_array(self::calledFrom(), self::REGENERATING, true);
        }
        try {
            $found = $this->fetch($id);
        } catch (SessiondException $error) {
            $this->deferred[$id] = $error; // session_start() throws it, from read()
            return true;
        }
        if ($found === null) {
            return false; // PHP makes a new session instead (strict mode)
        }
        $this->validated[$id] = $found;
        return true;
    }

    public function updateTimestamp(string $id, string $data): bool
    {
        $state = $this->stateFor($id);
        if ($state === null || $state->unavailable || $state->missing) {
            return true;
        }
        try {
            $document = $this->metaChanges($state);
            if ($document === []) {
                $this->slide($state);
            } else {
                $state->adopt($this->client->patch($id, $document));
                $state->slid = true;
            }
        } catch (SessionNotFoundException) {
            $state->missing = true;
            return true;
        } catch (UnavailableException $error) {
            return $this->unavailable($error, 'the session\'s expiry was not extended');
        }
        $this->subjectChange = Missing::Value;
        return true;
    }

    // MARK: - Internals

    /** The session, null when Sessiond has none under $id, Missing when unavailable (fail-open). */
    private function fetch(string $id): Session|Missing|null
    {
        if (preg_match(Client::SID_PATTERN, $id) !== 1) {
            return null;
        }
        try {
            return $this->client->get($id);
        } catch (SessionNotFoundException|BadRequestException) {
            return null;
        } catch (UnavailableException $error) {
            $this->unavailable($error, 'this request runs with an empty session that will not be saved');
            return Missing::Value;
        }
    }

    private function stateFor(string $id): ?SessionState
    {
        return $this->current !== null && $this->current->sid === $id ? $this->current : null;
    }

    /** Slides the expiry (a touch) unless this request already did. */
    private function slide(SessionState $state): void
    {
        if (!$state->slid) {
            $state->adopt($this->client->touch($state->sid));
            $state->slid = true;
        }
    }

    /**
     * The lifetime and subject members of a merge patch, when they change.
     *
     * @return array<string, mixed>
     */
    private function metaChanges(SessionState $state): array
    {
        $document = [];
        $lifetime = $this->desiredLifetime();
        if ($lifetime !== null && $lifetime !== $state->lifetime) {
            $document['lifetime'] = $lifetime;
        }
        if (!$this->subjectChange instanceof Missing && $this->subjectChange !== $state->subject) {
            $document['subject'] = $this->subjectChange;
        }
        return $document;
    }

    private function desiredLifetime(): ?int
    {
        if ($this->lifetime === false) {
            return null;
        }
        if (is_int($this->lifetime)) {
            return $this->lifetime;
        }
        $seconds = (int) ini_get('session.gc_maxlifetime');
        return $seconds >= 1 ? $seconds : null;
    }

    /**
     * PUT of this request's changes on top of the version read, with If-Match; when another
     * request wrote in between, the same changes on top of the current state, again.
     *
     * @param array<string, mixed> $changed
     * @param list<string>         $removed
     */
    private function replaceRebased(SessionState $state, array $changed, array $removed): void
    {
        $base = $state->stored;
        $version = $state->version;
        $permanent = $state->permanent;
        $subject = $this->subjectChange instanceof Missing ? $state->subject : $this->subjectChange;
        $lifetime = $this->desiredLifetime() ?? $state->lifetime;
        $attempts = max(1, $this->conflictRetries + 1);
        for ($attempt = 1; ; $attempt++) {
            $merged = clone $base;
            foreach ($removed as $name) {
                unset($merged->{$name});
            }
            foreach ($changed as $name => $value) {
                $merged->{$name} = $value;
            }
            try {
                $state->adopt($this->client->replace($state->sid, $merged, $permanent, $subject, $lifetime, $version));
                $state->slid = true;
                return;
            } catch (PreconditionFailedException $conflict) {
                if ($attempt >= $attempts) {
                    throw $conflict;
                }
                $now = $this->client->get($state->sid);
                $base = $now->dataObject;
                $version = $now->version;
                $permanent = $now->permanent;
                if ($this->subjectChange instanceof Missing) {
                    $subject = $now->subject;
                }
                if ($this->desiredLifetime() === null) {
                    $lifetime = $now->lifetime;
                }
            }
        }
    }

    /** Fail closed: rethrows. Fail open: logs, and the caller goes on. */
    private function unavailable(UnavailableException $error, string $consequence, string $level = 'warning'): bool
    {
        if (!$this->failOpen) {
            throw $error;
        }
        ($this->log)($level, "Sessiond is unavailable, so $consequence: {$error->getMessage()}");
        return true;
    }

    /**
     * $_SESSION as PHP serialized it (php_serialize): unserialized with allowed_classes = false,
     * so no object is ever made from it.
     *
     * @return array<array-key, mixed>
     */
    private static function decode(string $data): array
    {
        if ($data === '') {
            return [];
        }
        $value = @unserialize($data, ['allowed_classes' => false]);
        if (!is_array($value)) {
            throw new ConfigurationException(
                'the session data PHP handed to write() is not in the php_serialize format: '
                . 'session.serialize_handler must be php_serialize'
            );
        }
        return $value;
    }

    /** The session function of PHP's that called the handler (through wrappers), if any. */
    private static function calledFrom(): ?string
    {
        foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS, 16) as $frame) {
            if (!isset($frame['class']) && in_array($frame['function'], self::SESSION_FUNCTIONS, true)) {
                return $frame['function'];
            }
        }
        return null;
    }
}
