<?php

declare(strict_types=1);

namespace Sessiond\Tests\Support;

/**
 * A TCP relay on loopback to a server's port, in a PHP process of its own (relay-process.php),
 * that can cut every connection it carries (a network that drops them) and keeps what each
 * client sent.
 */
final class Relay
{
    public readonly string $url;

    /** @var resource */
    private $process;
    private readonly string $dir;
    private bool $stopped = false;

    public function __construct(int $port)
    {
        $this->dir = sys_get_temp_dir() . '/sessiond-relay-' . bin2hex(random_bytes(6));
        mkdir($this->dir);
        $command = [PHP_BINARY, __DIR__ . '/relay-process.php', (string) $port, $this->dir];
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', "{$this->dir}/log", 'w']], $pipes);
        if ($process === false) {
            throw new \RuntimeException('cannot start the relay');
        }
        $this->process = $process;
        $deadline = microtime(true) + 10;
        while (!is_file("{$this->dir}/port") || !is_file("{$this->dir}/state.json")) {
            if (microtime(true) > $deadline || !proc_get_status($process)['running']) {
                $log = (string) @file_get_contents("{$this->dir}/log");
                $this->stop();
                throw new \RuntimeException("the relay did not start: $log");
            }
            usleep(10_000);
        }
        $this->url = 'http://127.0.0.1:' . trim((string) file_get_contents("{$this->dir}/port"));
    }

    /** Drops every connection the relay carries, both ways, and returns once it has. */
    public function cut(): void
    {
        touch("{$this->dir}/cut");
        $deadline = microtime(true) + 5;
        while (is_file("{$this->dir}/cut") && microtime(true) < $deadline) {
            usleep(5_000);
        }
    }

    /**
     * The GET /events requests that came through the relay, in the order of their connections.
     *
     * @return list<string>
     */
    public function eventRequests(): array
    {
        $out = [];
        foreach ($this->state() as $connection) {
            foreach (array_slice(explode('GET /events ', $connection['request']), 1) as $part) {
                $out[] = 'GET /events ' . explode("\r\n\r\n", $part, 2)[0] . "\r\n";
            }
        }
        return $out;
    }

    /** How many connections that carried a GET /events are open. */
    public function openStreams(): int
    {
        $open = 0;
        foreach ($this->state() as $connection) {
            if ($connection['open'] && str_contains($connection['request'], 'GET /events ')) {
                $open++;
            }
        }
        return $open;
    }

    /** @return list<array{request: string, open: bool}> */
    private function state(): array
    {
        $state = json_decode((string) @file_get_contents("{$this->dir}/state.json"), true);
        return is_array($state) ? $state : [];
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
