<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * Sessiond could not be used: the connection was refused or reset, no answer came within the
 * timeout, or it answered 503 (502 and 504 from a proxy alike).
 *
 * Nothing is known about the session in that case: it was neither found nor lost, so this is
 * never a "not found". Retry later; {@see $retryAfter} is the server's hint in seconds, when it
 * sent one.
 */
final class UnavailableException extends \RuntimeException implements SessiondException
{
    /**
     * @param int|null             $retryAfter seconds to wait before retrying (Retry-After), if sent
     * @param int|null             $status     the HTTP status (503...), or null when no answer came
     * @param array<string, mixed> $problem    the RFC 9457 problem body, when there was one
     */
    public function __construct(
        string $message,
        public readonly ?int $retryAfter = null,
        public readonly ?int $status = null,
        public readonly array $problem = [],
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, 0, $previous);
    }
}
