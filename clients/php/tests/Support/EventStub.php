<?php

declare(strict_types=1);

namespace Sessiond\Tests\Support;

/**
 * A stub of GET /events in a PHP process of its own (stub-process.php): it answers its i-th
 * request with the i-th answer given (the last one again after), and records each request.
 */
final class EventStub
{
    public readonly string $url;

    /** @var resource */
    private $process;
    private readonly string $dir;
    private bool $stopped = false;

    /**
     * @param list<array{status: int, headers?: array<string, string>, body?: string, hold?: bool}> $answers
     */
    public function __construct(array $answers)
    {
        $this->dir = sys_get_temp_dir() . '/sessiond-stub-' . bin2hex(random_bytes(6));
        mkdir($this->dir);
        file_put_contents("{$this->dir}/answers.json", json_encode($answers));
        $command = [PHP_BINARY, __DIR__ . '/stub-process.php', $this->dir];
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', "{$this->dir}/log", 'w']], $pipes);
        if ($process === false) {
            throw new \RuntimeException('cannot start the stub');
        }
        $this->process = $process;
        $deadline = microtime(true) + 10;
        while (!is_file("{$this->dir}/port")) {
            if (microtime(true) > $deadline || !proc_get_status($process)['running']) {
                $log = (string) @file_get_contents("{$this->dir}/log");
                $this->stop();
                throw new \RuntimeException("the stub did not start: $log");
            }
            usleep(10_000);
        }
        $this->url = 'http://127.0.0.1:' . trim((string) file_get_contents("{$this->dir}/port"));
    }

    /** @return list<array{time: float, lastEventId: ?string, request: string}> */
    public function requests(): array
    {
        $state = json_decode((string) @file_get_contents("{$this->dir}/state.json"), true);
        return is_array($state) ? $state : [];
    }

    /** An event stream of these frames. */
    public static function stream(string $body, bool $hold = false): array
    {
        return ['status' => 200, 'headers' => ['Content-Type' => 'text/event-stream'], 'body' => $body, 'hold' => $hold];
    }

    /** A problem answer. */
    public static function problem(int $status, string $slug, array $headers = []): array
    {
        $body = json_encode(['type' => "https://sessiond.dev/problems/$slug", 'title' => $slug, 'status' => $status]);
        return ['status' => $status, 'headers' => ['Content-Type' => 'application/problem+json'] + $headers, 'body' => $body];
    }

    /** A created event's frame. */
    public static function created(string $id, string $handle = '7db8182f26b9ef9938efa0806c9f8d46'): string
    {
        $data = json_encode(['id' => $id, 'type' => 'created', 'handle' => $handle, 'subject' => null, 'device' => null, 'time' => '2026-11-29T12:48:13.261Z']);
        return "id: $id\nevent: created\ndata: $data\n\n";
    }

    public function stop(): void
    {
        if ($this->stopped) {
            return;
        }
        $this->stopped = true;
        $status = proc_get_status($this->process);
        if ($status['running']) {
            posix_kill((int) $status['pid'], SIGKILL);
        }
        proc_close($this->process);
        foreach (glob("{$this->dir}/*") ?: [] as $file) {
            @unlink($file);
        }
        @rmdir($this->dir);
    }

    public function __destruct()
    {
        $this->stop();
    }
}
