<?php

declare(strict_types=1);

// The package's classes without Composer: require this file (Composer users get the same
// mapping from composer.json's PSR-4 autoload).
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Sessiond\\')) {
        $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen('Sessiond\\'))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
