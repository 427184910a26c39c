<?php

declare(strict_types=1);

namespace Sessiond;

/**
 * One entry of a subject's listing: a handle and times, never a sid or data.
 */
final class SessionSummary
{
    public function __construct(
        public readonly string $handle,
        public readonly bool $permanent,
        public readonly ?\DateTimeImmutable $createdAt,
        public readonly ?\DateTimeImmutable $updatedAt,
        public readonly ?\DateTimeImmutable $expiresAt,
        public readonly int $ttl,
    ) {
    }

    /** @internal */
    public static function fromJson(\stdClass $entry): self
    {
        return new self(
            handle: is_string($entry->handle ?? null) ? $entry->handle : '',
            permanent: ($entry->permanent ?? false) === true,
            createdAt: Session::time($entry->created_at ?? null),
            updatedAt: Session::time($entry->updated_at ?? null),
            expiresAt: Session::time($entry->expires_at ?? null),
            ttl: is_int($entry->ttl ?? null) ? $entry->ttl : 0,
        );
    }
}
