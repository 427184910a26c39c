<?php

declare(strict_types=1);

namespace Sessiond\Internal;

use Sessiond\Session;

/**
 * @internal what the handler knows of the session PHP has open.
 */
final class SessionState
{
    /** The data as Sessiond held it when read or last written (JSON types exact). */
    public \stdClass $stored;

    /** The session as PHP was handed it by read(), or last wrote it: the base of the next diff. */
    public array $baseline = [];

    public int $version = 0;
    public ?int $lifetime = null;
    public ?string $subject = null;
    public bool $permanent = false;

    /** The expiry was slid during this request (created, rotated, written or touched). */
    public bool $slid = false;

    /** Fail-open: Sessiond could not be reached; this session is empty and never saved. */
    public bool $unavailable = false;

    /** Not in Sessiond (gone: logged out elsewhere, expired); never recreated from here. */
    public bool $missing = false;

    public function __construct(public string $sid)
    {
        $this->stored = new \stdClass();
    }

    public static function of(Session $session, bool $slid): self
    {
        $state = new self($session->sid);
        $state->adopt($session);
        $state->baseline = $session->data;
        $state->slid = $slid;
        return $state;
    }

    /** Takes what Sessiond answered to a write (the baseline stays what PHP holds). */
    public function adopt(Session $session): void
    {
        $this->sid = $session->sid;
        $this->stored = $session->dataObject;
        $this->version = $session->version;
        $this->lifetime = $session->lifetime;
        $this->subject = $session->subject;
        $this->permanent = $session->permanent;
    }
}
