<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * Sessiond answered with an error status and an RFC 9457 problem (application/problem+json).
 *
 * Branch on {@see $slug} (the last part of the problem type, e.g. "session-not-found"), which is
 * stable; {@see $title} is its fixed summary and {@see $detail} explains this occurrence.
 * The message names the call's route ("GET http://.../sessions/{sid}"), never a sid or a
 * subject, so logging it leaks no session.
 */
class ProblemException extends \RuntimeException implements SessiondException
{
    public const TYPE_PREFIX = 'https://sessiond.dev/problems/';

    /** The problem's short name, such as "precondition-failed", or null for another type. */
    public readonly ?string $slug;

    /**
     * @param array<string, mixed>  $problem every member of the problem body
     * @param array<string, string> $headers the response headers (lowercase names)
     */
    public function __construct(
        public readonly int $status,
        public readonly string $type,
        public readonly ?string $title,
        public readonly ?string $detail,
        public readonly array $problem = [],
        public readonly array $headers = [],
        string $where = '',
    ) {
        $this->slug = str_starts_with($type, self::TYPE_PREFIX) ? substr($type, strlen(self::TYPE_PREFIX)) : null;
        $message = $status . ' ' . ($title ?? 'error');
        if ($detail !== null && $detail !== '') {
            $message .= ': ' . $detail;
        }
        if ($this->slug !== null) {
            $message .= ' (' . $this->slug . ')';
        }
        parent::__construct($where !== '' ? $where . ': ' . $message : $message, $status);
    }
}
