<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * 401: the API key is missing or wrong (a Sessiond started with --api-keys-file).
 */
final class UnauthorizedException extends ProblemException
{
}
