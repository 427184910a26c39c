<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * 412 precondition-failed: the session is at another version than If-Match named; nothing
 * changed. {@see $currentVersion} is the version it has now (from the problem's
 * current_version, else its ETag).
 */
class PreconditionFailedException extends ProblemException
{
    public readonly ?int $currentVersion;

    /**
     * @param array<string, mixed>  $problem
     * @param array<string, string> $headers
     */
    public function __construct(
        int $status,
        string $type,
        ?string $title,
        ?string $detail,
        array $problem = [],
        array $headers = [],
        string $where = '',
    ) {
        parent::__construct($status, $type, $title, $detail, $problem, $headers, $where);
        $current = $problem['current_version'] ?? null;
        if (!is_int($current) && isset($headers['etag']) && preg_match('/^"(\d+)"$/', $headers['etag'], $m) === 1) {
            $current = (int) $m[1];
        }
        $this->currentVersion = is_int($current) ? $current : null;
    }
}
