<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * Every exception this package throws implements this interface: catch it to handle any
 * Sessiond failure at once.
 */
interface SessiondException extends \Throwable
{
}
