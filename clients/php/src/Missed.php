<?php

declare(strict_types=1);

namespace Sessiond;

/**
 * Events after {@see $after} (the ID the stream resumed from) are lost: they fell out of
 * Sessiond's bounded history (--event-history) before they were read, or went with a restart of
 * a server on the embedded store. The items that follow are the oldest events Sessiond holds.
 * What was derived from the events (a cache of sessions, a count) should be rebuilt.
 */
final class Missed
{
    public const TYPE = 'missed';

    /** Always "missed", as a {@see LifecycleEvent}'s type names its kind. */
    public readonly string $type;

    public function __construct(
        public readonly string $after,
        public readonly ?string $detail = null,
    ) {
        $this->type = self::TYPE;
    }
}
