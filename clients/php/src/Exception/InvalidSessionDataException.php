<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * A session value that Sessiond cannot keep: Sessiond stores plain JSON, so session values
 * must be null, bool, int, float (finite), UTF-8 strings or arrays of those. Objects (DateTime,
 * your classes, stdClass...), NAN and INF, and strings that are not UTF-8 (binary: base64 them)
 * are refused before anything is sent, with the path of the value in the message
 * ($_SESSION['cart'][3]).
 */
final class InvalidSessionDataException extends \InvalidArgumentException implements SessiondException
{
}
