<?php

declare(strict_types=1);

// PHPUnit's bootstrap: the package's classes (autoload.php, as without Composer), the test
// helpers, and one sessiond for the whole run, started by the main PHPUnit process on a free
// loopback port. Tests in separate processes (the session handler's) include this file too:
// they find the server's URL in the environment and start none.

require __DIR__ . '/../autoload.php';

spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Sessiond\\Tests\\')) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen('Sessiond\\Tests\\'))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

if (getenv(Sessiond\Tests\Support\SessiondServer::SHARED_URL_ENV) === false) {
    $server = Sessiond\Tests\Support\SessiondServer::start();
    putenv(Sessiond\Tests\Support\SessiondServer::SHARED_URL_ENV . '=' . $server->url);
    register_shutdown_function(static function () use ($server): void {
        $server->stop();
    });
}
