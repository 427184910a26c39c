<?php

declare(strict_types=1);

namespace Sessiond\Internal;

/** @internal marks a member that is absent (null is a value). */
enum Missing
{
    case Value;
}
