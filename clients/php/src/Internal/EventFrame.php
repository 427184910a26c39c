<?php

declare(strict_types=1);

namespace Sessiond\Internal;

/**
 * @internal one event of a text/event-stream: its type ("message" when it named none), its data
 * (the data lines joined by line feeds) and the stream's last event ID after it.
 */
final class EventFrame
{
    public function __construct(
        public readonly string $event,
        public readonly string $data,
        public readonly string $lastEventId,
    ) {
    }
}
