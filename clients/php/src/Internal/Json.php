<?php

declare(strict_types=1);

namespace Sessiond\Internal;

use Sessiond\Exception\InvalidSessionDataException;

/**
 * @internal PHP session values to Sessiond's JSON and back, and the merge patch between two
 * versions of one value.
 *
 * JSON objects are held as \stdClass and lists as PHP lists, so the JSON type of every value is
 * exact; PHP arrays are lists when array_is_list() says so, else objects.
 */
final class Json
{
    public const FLAGS = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
        | JSON_PRESERVE_ZERO_FRACTION;

    private const MAX_DEPTH = 512;

    /**
     * The JSON form of a session value, or InvalidSessionDataException naming the value.
     *
     * @param mixed $old the JSON value stored before at this place (Missing::Value for none):
     *                   an empty PHP array stays an empty object where an object was stored
     */
    public static function fromPhp(mixed $value, string $path, mixed $old, int $depth = 0): mixed
    {
        if ($value === null || is_bool($value) || is_int($value)) {
            return $value;
        }
        if (is_float($value)) {
            if (!is_finite($value)) {
                throw new InvalidSessionDataException(
                    "$path is " . (is_nan($value) ? 'NAN' : 'INF') . ', which JSON cannot hold: Sessiond keeps plain JSON values'
                );
            }
            return $value;
        }
        if (is_string($value)) {
            if (preg_match('//u', $value) !== 1) {
                throw new InvalidSessionDataException(
                    "$path is a string that is not UTF-8 (binary data?): Sessiond keeps JSON text; store base64_encode() of it"
                );
            }
            return $value;
        }
        if (is_array($value)) {
            if ($depth >= self::MAX_DEPTH) {
                throw new InvalidSessionDataException("$path nests deeper than " . self::MAX_DEPTH . ' levels');
            }
            if ($value === []) {
                return $old instanceof \stdClass ? new \stdClass() : [];
            }
            if (array_is_list($value)) {
                $list = [];
                foreach ($value as $index => $item) {
                    $list[] = self::fromPhp($item, $path . '[' . $index . ']', is_array($old) && array_key_exists($index, $old) ? $old[$index] : Missing::Value, $depth + 1);
                }
                return $list;
            }
            $object = new \stdClass();
            foreach ($value as $key => $member) {
                $name = self::key($key, $path);
                $object->{$name} = self::fromPhp(
                    $member,
                    $path . '[' . var_export($key, true) . ']',
                    $old instanceof \stdClass && property_exists($old, $name) ? $old->{$name} : Missing::Value,
                    $depth + 1,
                );
            }
            return $object;
        }
        if (is_object($value)) {
            $class = $value instanceof \__PHP_Incomplete_Class
                ? (string) ((array) $value)['__PHP_Incomplete_Class_Name']
                : get_class($value);
            throw new InvalidSessionDataException(
                "$path is an object ($class): Sessiond keeps plain JSON, and this handler never stores or "
                . 'unserializes objects; store scalars and arrays (a date as $date->format(DATE_ATOM), an entity by its id)'
            );
        }
        throw new InvalidSessionDataException("$path is a " . get_debug_type($value) . ', which JSON cannot hold');
    }

    /** A session key as a JSON member name. */
    public static function key(int|string $key, string $path): string
    {
        $name = (string) $key;
        if (preg_match('//u', $name) !== 1 || str_contains($name, "\0")) {
            throw new InvalidSessionDataException("$path has a key that is not UTF-8 text without NUL: " . var_export($key, true));
        }
        return $name;
    }

    public static function encode(mixed $value): string
    {
        return json_encode($value, self::FLAGS);
    }

    /**
     * What a merge patch says for one member that changed from $old to $new: the new value, the
     * merge patch between two objects, or Missing::Value when nothing is to be said (only the
     * order of members differs). NotMergeable when a merge patch cannot say it: null is to be
     * stored (null means "remove" in a merge patch), or an object with a null member.
     */
    public static function memberPatch(mixed $old, mixed $new): mixed
    {
        if ($new instanceof \stdClass && $old instanceof \stdClass) {
            $patch = self::mergeDiff($old, $new);
            return get_object_vars($patch) === [] ? Missing::Value : $patch;
        }
        if ($new === null || self::hasNullMember($new)) {
            throw new NotMergeable();
        }
        return $new;
    }

    /** The merge patch that turns the object $old into the object $new. */
    public static function mergeDiff(\stdClass $old, \stdClass $new): \stdClass
    {
        $patch = new \stdClass();
        foreach (get_object_vars($old) as $name => $_) {
            if (!property_exists($new, (string) $name)) {
                $patch->{$name} = null;
            }
        }
        foreach (get_object_vars($new) as $name => $value) {
            $name = (string) $name;
            if (property_exists($old, $name) && self::encode($old->{$name}) === self::encode($value)) {
                continue;
            }
            $member = self::memberPatch(property_exists($old, $name) ? $old->{$name} : Missing::Value, $value);
            if (!$member instanceof Missing) {
                $patch->{$name} = $member;
            }
        }
        return $patch;
    }

    /** Whether a merge patch carrying $value would drop a null in one of its objects. */
    private static function hasNullMember(mixed $value): bool
    {
        if (!$value instanceof \stdClass) {
            return false; // lists and scalars replace whole, nulls inside lists included
        }
        foreach (get_object_vars($value) as $member) {
            if ($member === null || self::hasNullMember($member)) {
                return true;
            }
        }
        return false;
    }
}
