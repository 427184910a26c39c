<?php

declare(strict_types=1);

namespace Sessiond\Internal;

use Sessiond\Exception\ProblemException;
use Sessiond\Exception\UnavailableException;
use Sessiond\LifecycleEvent;
use Sessiond\Missed;
use Sessiond\Session;

/**
 * @internal the reconnection policy of {@see \Sessiond\Client::events()}, and what it yields for
 * each frame. No I/O here.
 */
final class Events
{
    /** Seconds to wait before reconnecting until the server says otherwise (retry:). */
    public const DEFAULT_RETRY = 1.0;

    /** The longest wait between two attempts to reconnect, whatever retry: says. */
    public const MAX_RETRY_DELAY = 30.0;

    /**
     * A stream that sends nothing for this many seconds (not even the keep-alive comment
     * Sessiond sends every 15 s) is taken for a dead connection, and reopened.
     */
    public const IDLE_TIMEOUT = 45.0;

    /**
     * Whether reconnecting may help: Sessiond could not be used (refused or dropped, no answer in
     * time, 502/503/504) or failed (500). A request it refused (400, 401) or a server that
     * records no events (501 events-off) would fail again.
     */
    public static function isTransient(\Throwable $error): bool
    {
        return $error instanceof UnavailableException
            || ($error instanceof ProblemException && $error->status >= 500 && $error->status !== 501);
    }

    /**
     * Seconds to wait before the next attempt: the server's retry (at least 0.1 s), doubled for
     * each attempt that failed in a row, at least a 503's Retry-After, at most MAX_RETRY_DELAY.
     */
    public static function retryDelay(float $retry, int $failures, ?\Throwable $error = null): float
    {
        $delay = max($retry, 0.1) * 2 ** min($failures, 16);
        if ($error instanceof UnavailableException && $error->retryAfter !== null) {
            $delay = max($delay, (float) $error->retryAfter);
        }
        return min($delay, self::MAX_RETRY_DELAY);
    }

    /**
     * What a stream yields for one frame of Sessiond's: a Missed for "event: missed", else a
     * LifecycleEvent. UnavailableException (status 200) when its data is not such an object.
     */
    public static function itemOf(EventFrame $frame, string $where): LifecycleEvent|Missed
    {
        try {
            $object = json_decode($frame->data, false, 64, JSON_THROW_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);
        } catch (\JsonException) {
            $object = null;
        }
        if (!$object instanceof \stdClass) {
            throw self::notAnEvent('an event whose data is not a JSON object', $frame, $where);
        }
        /** @var array<string, mixed> $body */
        $body = Session::toArray($object);
        if ($frame->event === Missed::TYPE) {
            return new Missed(
                is_string($body['after'] ?? null) ? $body['after'] : $frame->lastEventId,
                is_string($body['detail'] ?? null) ? $body['detail'] : null,
            );
        }
        $id = array_key_exists('id', $body) ? $body['id'] : $frame->lastEventId;
        $type = array_key_exists('type', $body) ? $body['type'] : $frame->event;
        $handle = $body['handle'] ?? null;
        $time = Session::time($body['time'] ?? null);
        if (!is_string($id) || !is_string($type) || !is_string($handle) || $time === null) {
            throw self::notAnEvent('an event that is not a lifecycle event', $frame, $where);
        }
        $device = null;
        if (is_array($body['device'] ?? null)) {
            $device = array_filter($body['device'], 'is_string');
        }
        return new LifecycleEvent(
            id: $id,
            type: $type,
            handle: $handle,
            from: is_string($body['from'] ?? null) ? $body['from'] : null,
            subject: is_string($body['subject'] ?? null) ? $body['subject'] : null,
            device: $device,
            time: $time->setTimezone(new \DateTimeZone('UTC')),
            raw: $body,
        );
    }

    private static function notAnEvent(string $what, EventFrame $frame, string $where): UnavailableException
    {
        return new UnavailableException(
            "Sessiond sent $what: " . json_encode(substr($frame->data, 0, 200), JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_SLASHES) . ": $where",
            null,
            200,
        );
    }
}
