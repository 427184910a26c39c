<?php

declare(strict_types=1);

// A TCP relay on loopback to a server's port (run by Relay): it carries every connection both
// ways, keeps the bytes each client sent (up to 64 KiB), and cuts every connection when the
// file "cut" appears in its directory. It writes its port to "port" and its connections to
// "state.json" ([{"request": ..., "open": bool}, ...]).
//
//     php relay-process.php <server port> <directory>

[, $target, $dir] = $argv;
$listener = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
if ($listener === false) {
    fwrite(STDERR, "relay: $error\n");
    exit(1);
}
$name = (string) stream_socket_get_name($listener, false);
file_put_contents("$dir/port.tmp", substr($name, strrpos($name, ':') + 1));
rename("$dir/port.tmp", "$dir/port");

/** @var list<array{down: resource, up: resource, request: string, open: bool}> $connections */
$connections = [];
$save = static function () use (&$connections, $dir): void {
    $state = array_map(static fn (array $c): array => ['request' => $c['request'], 'open' => $c['open']], $connections);
    file_put_contents("$dir/state.tmp", json_encode($state, JSON_INVALID_UTF8_SUBSTITUTE));
    rename("$dir/state.tmp", "$dir/state.json");
};
$save();
$close = static function (int $i) use (&$connections): void {
    if ($connections[$i]['open']) {
        $connections[$i]['open'] = false;
        @fclose($connections[$i]['down']);
        @fclose($connections[$i]['up']);
    }
};

while (true) {
    if (is_file("$dir/cut")) {
        foreach (array_keys($connections) as $i) {
            $close($i);
        }
        unlink("$dir/cut");
        $save();
    }
    if (is_file("$dir/stop")) {
        exit(0);
    }
    $read = [$listener];
    foreach ($connections as $c) {
        if ($c['open']) {
            $read[] = $c['down'];
            $read[] = $c['up'];
        }
    }
    $write = $except = null;
    if (@stream_select($read, $write, $except, 0, 50_000) < 1) {
        continue;
    }
    $changed = false;
    foreach ($read as $socket) {
        if ($socket === $listener) {
            $down = @stream_socket_accept($listener, 1);
            if ($down === false) {
                continue;
            }
            $up = @stream_socket_client("tcp://127.0.0.1:$target", $errno, $error, 2);
            if ($up === false) {
                fclose($down);
                continue;
            }
            stream_set_read_buffer($down, 0);
            stream_set_read_buffer($up, 0);
            $connections[] = ['down' => $down, 'up' => $up, 'request' => '', 'open' => true];
            $changed = true;
            continue;
        }
        foreach ($connections as $i => $c) {
            if (!$c['open'] || ($socket !== $c['down'] && $socket !== $c['up'])) {
                continue;
            }
            $data = @fread($socket, 65536);
            if ($data === false || $data === '') {
                $close($i);
                $changed = true;
                break;
            }
            $other = $socket === $c['down'] ? $c['up'] : $c['down'];
            if ($socket === $c['down'] && strlen($c['request']) < 65536) {
                $connections[$i]['request'] .= $data;
                $changed = true;
            }
            for ($sent = 0; $sent < strlen($data); $sent += $n) {
                $n = @fwrite($other, substr($data, $sent));
                if ($n === false || $n === 0) {
                    $close($i);
                    $changed = true;
                    break;
                }
            }
            break;
        }
    }
    if ($changed) {
        $save();
    }
}
