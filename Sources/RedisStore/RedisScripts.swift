/// The Lua scripts that make the store's writes atomic. Each touches one key only (the
/// session's), so they run unchanged on Redis Cluster. A session is a hash:
/// `data` (compact JSON), `permanent` ("1"/"0"), `version`, `created`, `updated`, `expires`
/// (milliseconds since the epoch), and the key's own expiry is `PEXPIREAT expires`.
enum RedisScripts {
    /// KEYS[1] session key; ARGV: data, permanent, created (= updated), expires.
    /// Returns 1 when stored, 0 when the key exists.
    static let insert = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'data', ARGV[1], 'permanent', ARGV[2], 'version', 1,
                   'created', ARGV[3], 'updated', ARGV[3], 'expires', ARGV[4])
        redis.call('PEXPIREAT', KEYS[1], ARGV[4])
        return 1
        """

    /// KEYS[1] session key; ARGV: now, data, permanent, standard lifetime, permanent lifetime,
    /// absolute lifetime (or -1). The rule of `Session.applying(_:at:policy:)`: version + 1,
    /// updated = now, expires = now + lifetime capped at created + absolute.
    /// Returns nil when the session is absent or expired at `now` (and then deletes it), else
    /// {version, created, expires}.
    static let replace = """
        local s = redis.call('HMGET', KEYS[1], 'version', 'created', 'expires')
        if not s[1] then return false end
        local now = tonumber(ARGV[1])
        if tonumber(s[3]) <= now then
            redis.call('DEL', KEYS[1])
            return false
        end
        local lifetime = tonumber(ARGV[4])
        if ARGV[3] == '1' then lifetime = tonumber(ARGV[5]) end
        local expires = now + lifetime
        local absolute = tonumber(ARGV[6])
        if absolute >= 0 then
            local cap = tonumber(s[2]) + absolute
            if cap < expires then expires = cap end
        end
        local version = tonumber(s[1]) + 1
        redis.call('HSET', KEYS[1], 'data', ARGV[2], 'permanent', ARGV[3], 'version', version,
                   'updated', ARGV[1], 'expires', expires)
        redis.call('PEXPIREAT', KEYS[1], expires)
        return {version, s[2], expires}
        """

    /// In the order `RedisConnectionPool` loads them.
    static let all = [insert, replace]
    static let insertIndex = 0
    static let replaceIndex = 1
}
