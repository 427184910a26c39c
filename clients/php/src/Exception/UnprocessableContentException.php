<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * 422: a body Sessiond cannot take (invalid-body, unsupported-value, data-too-large, lifetime-too-long).
 */
final class UnprocessableContentException extends ProblemException
{
}
