<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * 404: no resource at this path.
 */
class NotFoundException extends ProblemException
{
}
