<?php

declare(strict_types=1);

namespace Sessiond;

/**
 * A session as Sessiond returns it.
 *
 * {@see $data} is the session's JSON object as PHP arrays (json_decode(..., true)): objects and
 * lists are both arrays, so an object whose keys are "0", "1"... reads as a list.
 */
final class Session
{
    /**
     * @param array<array-key, mixed> $data    the session data
     * @param array<string, mixed>    $raw     the whole resource as Sessiond sent it (arrays)
     * @param \stdClass               $dataObject the data with JSON objects as stdClass (exact JSON types)
     */
    public function __construct(
        public readonly string $sid,
        public readonly array $data,
        public readonly bool $permanent,
        public readonly ?string $subject,
        /** The session's own idle lifetime in seconds, or null: then permanent picks it. */
        public readonly ?int $lifetime,
        public readonly int $version,
        public readonly ?\DateTimeImmutable $createdAt,
        public readonly ?\DateTimeImmutable $updatedAt,
        public readonly ?\DateTimeImmutable $expiresAt,
        /** Whole seconds left, rounded up. */
        public readonly int $ttl,
        public readonly array $raw = [],
        public readonly \stdClass $dataObject = new \stdClass(),
    ) {
    }

    /**
     * @internal builds a Session from a decoded response body (JSON objects as stdClass)
     */
    public static function fromJson(\stdClass $body): self
    {
        $data = isset($body->data) && $body->data instanceof \stdClass ? $body->data : new \stdClass();
        /** @var array<string, mixed> $raw */
        $raw = self::toArray($body);
        return new self(
            sid: is_string($body->sid ?? null) ? $body->sid : '',
            data: self::toArray($data),
            permanent: ($body->permanent ?? false) === true,
            subject: is_string($body->subject ?? null) ? $body->subject : null,
            lifetime: is_int($body->lifetime ?? null) ? $body->lifetime : null,
            version: is_int($body->version ?? null) ? $body->version : 0,
            createdAt: self::time($body->created_at ?? null),
            updatedAt: self::time($body->updated_at ?? null),
            expiresAt: self::time($body->expires_at ?? null),
            ttl: is_int($body->ttl ?? null) ? $body->ttl : 0,
            raw: $raw,
            dataObject: $data,
        );
    }

    /** The entity tag of this version, for If-Match: '"3"'. */
    public function etag(): string
    {
        return '"' . $this->version . '"';
    }

    /** The handle this session is listed under in its subject's sessions. */
    public function handle(): string
    {
        return Client::handleFor($this->sid);
    }

    /** @internal */
    public static function time(mixed $value): ?\DateTimeImmutable
    {
        if (!is_string($value)) {
            return null;
        }
        $time = \DateTimeImmutable::createFromFormat('Y-m-d\TH:i:s.vP', $value)
            ?: \DateTimeImmutable::createFromFormat('Y-m-d\TH:i:sP', $value);
        return $time === false ? null : $time;
    }

    /**
     * @internal JSON objects (stdClass) to PHP arrays, recursively
     * @return array<array-key, mixed>
     */
    public static function toArray(\stdClass|array $value): array
    {
        $out = [];
        foreach ((array) $value as $key => $member) {
            $out[$key] = $member instanceof \stdClass || is_array($member) ? self::toArray($member) : $member;
        }
        return $out;
    }
}
