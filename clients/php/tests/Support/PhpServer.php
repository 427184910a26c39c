<?php

declare(strict_types=1);

namespace Sessiond\Tests\Support;

/**
 * PHP's built-in web server (php -S) on a free loopback port, serving a router script with
 * several workers (PHP_CLI_SERVER_WORKERS), so requests run at once as under PHP-FPM.
 */
final class PhpServer
{
    public readonly string $url;

    /** @var resource */
    private $process;
    private readonly string $logFile;
    private bool $stopped = false;

    /**
     * @param array<string, string> $env extra environment of the app
     */
    public function __construct(string $router, array $env = [], int $workers = 4)
    {
        $port = SessiondServer::freePort();
        $this->url = "http://127.0.0.1:$port";
        $this->logFile = (string) tempnam(sys_get_temp_dir(), 'php-s-');
        $environment = getenv() + ['PATH' => '/usr/bin:/bin'];
        $environment = array_merge($environment, $env, ['PHP_CLI_SERVER_WORKERS' => (string) $workers]);
        $command = [PHP_BINARY, '-S', "127.0.0.1:$port", '-d', 'display_errors=stderr', '-d', 'log_errors=0', $router];
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->logFile, 'w'], 2 => ['file', $this->logFile, 'a']], $pipes, dirname($router), $environment);
        if ($process === false) {
            throw new \RuntimeException('cannot start php -S');
        }
        $this->process = $process;
        $deadline = microtime(true) + 10;
        while (true) {
            $socket = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 0.2);
            if ($socket !== false) {
                fclose($socket);
                return;
            }
            if (!proc_get_status($this->process)['running'] || microtime(true) > $deadline) {
                $log = $this->log();
                $this->stop();
                throw new \RuntimeException("php -S did not start: $log");
            }
            usleep(20_000);
        }
    }

    public function log(): string
    {
        return is_file($this->logFile) ? (string) file_get_contents($this->logFile) : '';
    }

    public function stop(): void
    {
        if ($this->stopped) {
            return;
        }
        $this->stopped = true;
        // php -S leaves its workers running when the master gets SIGTERM: they are stopped too.
        $pid = (int) proc_get_status($this->process)['pid'];
        foreach ([...self::children($pid), $pid] as $process) {
            posix_kill($process, SIGTERM);
        }
        proc_close($this->process);
        @unlink($this->logFile);
    }

    /** @return list<int> the processes whose parent is $pid */
    private static function children(int $pid): array
    {
        $children = [];
        foreach (glob('/proc/[0-9]*/stat') ?: [] as $stat) {
            $text = @file_get_contents($stat);
            if ($text !== false) {
                $fields = explode(' ', trim(substr($text, strrpos($text, ')') + 2)));
                if ((int) ($fields[1] ?? 0) === $pid) {
                    $children[] = (int) basename(dirname($stat));
                }
            }
        }
        return $children;
    }

    public function __destruct()
    {
        $this->stop();
    }
}
