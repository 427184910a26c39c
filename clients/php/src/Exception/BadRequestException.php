<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * 400: a malformed sid (for create() with a sid: not a random UUID version 4), subject, handle, If-Match or query.
 */
final class BadRequestException extends ProblemException
{
}
