<?php

declare(strict_types=1);

// An HTTP server on loopback (run by EventStub) that answers its i-th request with the i-th of
// the answers in answers.json (the last one again after), one connection at a time:
// {"status": 200, "headers": {...}, "body": "...", "hold": true} sends the head and the body,
// then keeps the connection open, silent, until the client closes it or another connects;
// without "hold" it closes the connection after the body. It writes its port to "port" and the
// requests to "state.json" ([{"time": ..., "lastEventId": ..., "request": ...}, ...]).
//
//     php stub-process.php <directory>

[, $dir] = $argv;
$answers = json_decode((string) file_get_contents("$dir/answers.json"), true);
$listener = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
if ($listener === false || !is_array($answers) || $answers === []) {
    fwrite(STDERR, "stub: $error\n");
    exit(1);
}
$name = (string) stream_socket_get_name($listener, false);
file_put_contents("$dir/port.tmp", substr($name, strrpos($name, ':') + 1));
rename("$dir/port.tmp", "$dir/port");

$requests = [];
$held = null;
while (!is_file("$dir/stop")) {
    $read = [$listener];
    if ($held !== null) {
        $read[] = $held;
    }
    $write = $except = null;
    if (@stream_select($read, $write, $except, 0, 50_000) < 1) {
        continue;
    }
    if ($held !== null && in_array($held, $read, true)) {
        $data = @fread($held, 65536);
        if ($data === false || $data === '') { // the client closed it
            fclose($held);
            $held = null;
        }
    }
    if (!in_array($listener, $read, true)) {
        continue;
    }
    $connection = @stream_socket_accept($listener, 1);
    if ($connection === false) {
        continue;
    }
    if ($held !== null) {
        fclose($held);
        $held = null;
    }
    $request = '';
    while (!str_contains($request, "\r\n\r\n") && !feof($connection)) {
        $request .= (string) fread($connection, 8192);
    }
    $lastEventId = preg_match('/\r\nLast-Event-ID: ([^\r]*)\r\n/i', $request, $m) === 1 ? $m[1] : null;
    $requests[] = ['time' => microtime(true), 'lastEventId' => $lastEventId, 'request' => $request];
    file_put_contents("$dir/state.tmp", json_encode($requests, JSON_INVALID_UTF8_SUBSTITUTE));
    rename("$dir/state.tmp", "$dir/state.json");
    $answer = $answers[min(count($requests), count($answers)) - 1];
    $head = "HTTP/1.1 {$answer['status']} Stub\r\nConnection: close\r\n";
    foreach ($answer['headers'] ?? [] as $header => $value) {
        $head .= "$header: $value\r\n";
    }
    if (!($answer['hold'] ?? false)) {
        $head .= 'Content-Length: ' . strlen($answer['body'] ?? '') . "\r\n";
    }
    @fwrite($connection, $head . "\r\n" . ($answer['body'] ?? ''));
    if ($answer['hold'] ?? false) {
        $held = $connection;
    } else {
        fclose($connection);
    }
}
