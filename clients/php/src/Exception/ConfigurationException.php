<?php

declare(strict_types=1);

namespace Sessiond\Exception;

/**
 * The session module is set up in a way the Sessiond handler cannot work with (for instance
 * session.serialize_handler is not php_serialize, or session.use_strict_mode is off).
 */
final class ConfigurationException extends \LogicException implements SessiondException
{
}
