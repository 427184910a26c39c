<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * 404 session-not-found: no live session has this sid (it never existed, expired, was deleted, revoked or rotated).
 */
final class SessionNotFoundException extends NotFoundException
{
}
