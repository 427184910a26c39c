<?php

declare(strict_types=1);

namespace Sessiond\Internal;

/**
 * @internal the event stream interpretation of the HTML standard (Server-Sent Events), fed
 * bytes as they arrive, in pieces of any size: UTF-8 (a leading BOM dropped), lines ended by
 * CRLF, LF or CR, comments (":") ignored, "field: value" with one space after the colon
 * dropped, a field without a colon an empty value, data lines joined by "\n", an id with NUL
 * ignored, retry only when all ASCII digits, unknown fields ignored, and an event dispatched at
 * a blank line (none when it had no data). One parser reads one connection: what a connection
 * left unfinished is dropped, as the standard says.
 *
 * {@see $lastEventId} starts as the ID the connection resumed from, so an event without an id
 * line (Sessiond's "missed") keeps it; {@see $retry} is the server's reconnection time in
 * seconds, or null.
 */
final class EventStreamParser
{
    private const BOM = "\xEF\xBB\xBF";

    public string $lastEventId;
    public ?float $retry = null;

    private bool $started = false;
    private bool $afterCr = false;
    private string $pending = '';
    /** @var list<string> */
    private array $data = [];
    private string $event = '';
    private string $id;

    public function __construct(string $lastEventId = '')
    {
        $this->id = $lastEventId;
        $this->lastEventId = $lastEventId;
    }

    /**
     * The events that $chunk completes, in order.
     *
     * @return list<EventFrame>
     */
    public function feed(string $chunk): array
    {
        if ($chunk === '') {
            return [];
        }
        if ($this->afterCr) {
            $this->afterCr = false;
            if ($chunk[0] === "\n") { // the LF of a CRLF cut between two chunks
                $chunk = substr($chunk, 1);
            }
        }
        $buffer = $this->pending . $chunk;
        if (!$this->started) {
            if (strlen($buffer) < 3 && str_starts_with(self::BOM, $buffer)) {
                $this->pending = $buffer; // perhaps a BOM cut in pieces
                return [];
            }
            $this->started = true;
            if (str_starts_with($buffer, self::BOM)) {
                $buffer = substr($buffer, 3);
            }
        }
        $lines = preg_split('/\r\n|\r|\n/', $buffer);
        $this->pending = (string) array_pop($lines);
        $this->afterCr = str_ends_with($buffer, "\r");
        $frames = [];
        foreach ($lines as $line) {
            $this->line($line, $frames);
        }
        return $frames;
    }

    /** What is not UTF-8 becomes U+FFFD, as a decoder makes it (with mbstring; else kept). */
    private static function scrub(string $text): string
    {
        if (!function_exists('mb_scrub')) {
            return $text;
        }
        $previous = mb_substitute_character();
        mb_substitute_character(0xFFFD);
        try {
            return mb_scrub($text, 'UTF-8');
        } finally {
            mb_substitute_character($previous);
        }
    }

    /**
     * @param list<EventFrame> $frames
     */
    private function line(string $line, array &$frames): void
    {
        if ($line === '') {
            $this->lastEventId = $this->id;
            if ($this->data !== []) {
                $frames[] = new EventFrame($this->event !== '' ? $this->event : 'message', implode("\n", $this->data), $this->lastEventId);
            }
            $this->data = [];
            $this->event = '';
            return;
        }
        if ($line[0] === ':') {
            return;
        }
        if (preg_match('//u', $line) !== 1) {
            $line = self::scrub($line);
        }
        $colon = strpos($line, ':');
        $name = $colon === false ? $line : substr($line, 0, $colon);
        $value = $colon === false ? '' : substr($line, $colon + 1);
        if (str_starts_with($value, ' ')) {
            $value = substr($value, 1);
        }
        switch ($name) {
            case 'event':
                $this->event = $value;
                break;
            case 'data':
                $this->data[] = $value;
                break;
            case 'id':
                if (!str_contains($value, "\0")) {
                    $this->id = $value;
                }
                break;
            case 'retry':
                if ($value !== '' && strspn($value, '0123456789') === strlen($value)) {
                    $this->retry = (float) $value / 1000;
                }
                break;
        }
    }
}
