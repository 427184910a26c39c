<?php

declare(strict_types=1);

// A small app on PHP's native sessions kept in Sessiond: a visit counter, login (a new session
// id, and the user as the session's subject), logout, "log out my other devices", and a route
// that sets one key (slowly, to show two requests at once both keeping their change).
//
// With Sessiond running on 127.0.0.1:8080 (scripts/run from the repository root):
//
//     php -S 127.0.0.1:8000 clients/php/examples/app.php
//
// SESSIOND_URL, SESSIOND_API_KEY and SESSIOND_FAIL_OPEN=1 configure it.

use Sessiond\Client;
use Sessiond\Exception\UnavailableException;
use Sessiond\SessionHandler;

require __DIR__ . '/../autoload.php'; // with Composer: require 'vendor/autoload.php';

// The one line that replaces session.save_handler = redis:
session_set_save_handler($handler = new SessionHandler(
    getenv('SESSIOND_URL') ?: 'http://127.0.0.1:8080',
    apiKey: getenv('SESSIOND_API_KEY') ?: null,
    failOpen: getenv('SESSIOND_FAIL_OPEN') === '1',
), true);

ini_set('session.cookie_httponly', '1');
ini_set('session.cookie_samesite', 'Lax');

header('Content-Type: application/json');
header('Cache-Control: no-store');

/** @param array<string, mixed> $body */
function reply(array $body, int $status = 200): never
{
    if (session_status() === PHP_SESSION_ACTIVE) {
        // Written now rather than after the script, so that a Sessiond outage gets its 503.
        try {
            session_write_close();
        } catch (UnavailableException) {
            [$body, $status] = [['error' => 'sessions are unavailable, try again shortly'], 503];
        }
    }
    http_response_code($status);
    echo json_encode($body, JSON_UNESCAPED_SLASHES), "\n";
    exit;
}

try {
    session_start();
} catch (UnavailableException $error) {
    // Fail closed (the default): without its sessions the app does not guess who the user is.
    if ($error->retryAfter !== null) {
        header('Retry-After: ' . $error->retryAfter);
    }
    reply(['error' => 'sessions are unavailable, try again shortly'], 503);
}

$route = $_SERVER['REQUEST_METHOD'] . ' ' . parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
switch ($route) {
    case 'GET /':
        $_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
        reply(['count' => $_SESSION['count'], 'user' => $_SESSION['user'] ?? null]);

    case 'GET /session':
        // Reads only: with session.lazy_write (PHP's default) nothing is written, the expiry slides.
        reply(['session' => $_SESSION, 'unavailable' => $handler->isUnavailable()]);

    case 'POST /login':
        $user = (string) ($_POST['user'] ?? '');
        if (preg_match('/\A[a-z0-9_-]{1,64}\z/', $user) !== 1) {
            reply(['error' => 'user: 1 to 64 of a-z 0-9 _ -'], 400);
        }
        // A new session id at login (session-fixation defence): Sessiond's rotate, so the
        // session keeps its data and the old id stops working at once.
        session_regenerate_id(true);
        $_SESSION['user'] = $user;
        $handler->setSubject("user-$user"); // lists the session under the user, for "log out everywhere"
        reply(['user' => $user]);

    case 'POST /logout':
        session_destroy(); // deletes the session in Sessiond
        $cookie = session_get_cookie_params();
        setcookie(session_name(), '', ['expires' => 1, 'path' => $cookie['path'], 'domain' => $cookie['domain'],
            'secure' => $cookie['secure'], 'httponly' => $cookie['httponly'], 'samesite' => $cookie['samesite']]);
        reply(['user' => null]);

    case 'POST /logout-others':
        $subject = $handler->subject();
        $ended = $subject === null ? 0
            : $handler->client()->revokeSubject($subject, exceptHandle: Client::handleFor(session_id()));
        reply(['ended' => $ended]);

    case 'POST /set':
        // Sets one key after a pause, so that two of these requests run at once: each writes
        // only its own key, and both keep their change.
        $key = (string) ($_POST['key'] ?? '');
        if ($key === '') {
            reply(['error' => 'key is missing'], 400);
        }
        usleep(1000 * min(2000, (int) ($_POST['delay_ms'] ?? 0)));
        $_SESSION[$key] = (string) ($_POST['value'] ?? '');
        reply(['set' => $key]);

    default:
        reply(['error' => 'not found'], 404);
}
