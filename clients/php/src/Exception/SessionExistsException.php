<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * 412 session-exists: create() with a sid named the sid of a live session; nothing changed.
 * Mint another id ({@see \Sessiond\Client::newSid()}) and create again.
 */
final class SessionExistsException extends PreconditionFailedException
{
}
