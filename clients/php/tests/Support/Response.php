<?php

declare(strict_types=1);

namespace Sessiond\Tests\Support;

final class Response
{
    /**
     * @param array<string, list<string>> $headers lowercase names
     */
    public function __construct(public readonly int $status, public readonly array $headers, public readonly string $body)
    {
    }

    /** @return array<string, mixed> */
    public function json(): array
    {
        $value = json_decode($this->body, true);
        if (!is_array($value)) {
            throw new \RuntimeException("not a JSON object ({$this->status}): {$this->body}");
        }
        return $value;
    }

    /** @return list<string> */
    public function setCookies(): array
    {
        return $this->headers['set-cookie'] ?? [];
    }
}
