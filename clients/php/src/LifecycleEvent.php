<?php

declare(strict_types=1);

namespace Sessiond;

/**
 * One event of a session's life, as GET /events tells it ({@see Client::events()}): a handle,
 * never a sid, and never the session's data.
 *
 * {@see $type} is one of {@see TYPES}: "created", "rotated" ({@see $handle} is the new sid's,
 * {@see $from} the old one's), "deleted" (by its sid), "revoked" (by its subject's handle),
 * "limit_evicted" (to keep its subject within sessiond's --max-sessions-per-subject) or
 * "expired" ({@see $time} is the expiry itself). A later Sessiond may add kinds: their events
 * come as LifecycleEvents too. {@see $id} only grows: keep the last one seen to resume after it
 * (`$client->events($id)`).
 */
final class LifecycleEvent
{
    public const CREATED = 'created';
    public const ROTATED = 'rotated';
    public const DELETED = 'deleted';
    public const REVOKED = 'revoked';
    public const EXPIRED = 'expired';
    public const LIMIT_EVICTED = 'limit_evicted';

    /** The kinds of lifecycle events Sessiond tells. */
    public const TYPES = [self::CREATED, self::ROTATED, self::DELETED, self::REVOKED, self::EXPIRED, self::LIMIT_EVICTED];

    /**
     * @param array<string, string>|null $device the session's device metadata, or null
     * @param array<string, mixed>       $raw    the event's data as Sessiond sent it (arrays)
     */
    public function __construct(
        public readonly string $id,
        public readonly string $type,
        /** The session's handle, as subject listings show it ({@see Client::handleFor()}). */
        public readonly string $handle,
        /** "rotated" only: the handle of the sid that was rotated away; else null. */
        public readonly ?string $from,
        public readonly ?string $subject,
        public readonly ?array $device,
        /** When it happened (for "expired", the expiry), in UTC, to the millisecond. */
        public readonly \DateTimeImmutable $time,
        public readonly array $raw = [],
    ) {
    }
}
