extension RedisScripts {
    /// KEYS[1] a subject's limit table: a hash of handle -> "lastSeen:expires" (ms). ARGV: 1 now,
    /// 2 handle, 3 max, 4 its value, 5 its expiry. Drops entries whose expiry has passed; when
    /// fewer than max others remain, sets the handle's entry and returns {1}; else returns {0,
    /// handle, lastSeen, ...} of the others and changes nothing else. The key expires with its
    /// latest entry.
    static let limitAdmit = """
        local all = redis.call('HGETALL', KEYS[1])
        local now = tonumber(ARGV[1])
        local others, top = {}, tonumber(ARGV[5])
        for i = 1, #all, 2 do
            local seen, expires = string.match(all[i + 1], '^(%d+):(%d+)$')
            if not expires or tonumber(expires) <= now then
                redis.call('HDEL', KEYS[1], all[i])
            elseif all[i] ~= ARGV[2] then
                others[#others + 1] = all[i]
                others[#others + 1] = seen
                if tonumber(expires) > top then top = tonumber(expires) end
            end
        end
        if #others / 2 >= tonumber(ARGV[3]) then
            table.insert(others, 1, 0)
            return others
        end
        redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
        redis.call('PEXPIREAT', KEYS[1], top)
        return {1}
        """

    /// KEYS[1] a subject's limit table; ARGV: now, handle, value ("lastSeen:expires"), expiry.
    /// Sets the entry, and makes the key live at least until the expiry.
    static let limitSeen = """
        redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 or tonumber(ARGV[1]) + ttl < tonumber(ARGV[4]) then redis.call('PEXPIREAT', KEYS[1], ARGV[4]) end
        return 1
        """
}
