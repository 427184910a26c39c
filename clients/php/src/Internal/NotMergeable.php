<?php

declare(strict_types=1);

namespace Sessiond\Internal;

/** @internal a change that an RFC 7396 merge patch cannot express (a null to be stored). */
final class NotMergeable extends \Exception
{
}
