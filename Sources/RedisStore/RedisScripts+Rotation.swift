extension RedisScripts {
    /// KEYS[1] the original's session key; ARGV: 1 now, 2 version, 3 the successor's handle, 4
    /// readable until (ms), 5 until (ms), then the event arguments (`eventFunctions`: a
    /// `rotated` event, and the original leaves the expiry schedule). Freezes a live session at that version: marks it
    /// `rotated` to the successor with `grace` = readable until, drops its data unless it stays
    /// readable (a data-less marker), and makes it expire at `until`. Returns {1} frozen, {0}
    /// absent or expired, {2, version} at another version, {7, successor} rotated already, {6}
    /// a copy still pending.
    static let freeze = eventFunctions + "\n" + """
        local s = redis.call('HMGET', KEYS[1], 'version', 'expires', 'rotated', 'pending', 'subject', 'device')
        if not s[1] then return {0} end
        local now = tonumber(ARGV[1])
        if tonumber(s[2]) <= now then
            redis.call('DEL', KEYS[1])
            return {0}
        end
        if s[3] then return {7, s[3]} end
        if s[4] then return {6} end
        if tonumber(s[1]) ~= tonumber(ARGV[2]) then return {2, tonumber(s[1])} end
        -- No window: readable until the epoch, so that a write whose clock read a little
        -- earlier than the rotation's is told 404, not 409 rotated.
        local grace = ARGV[4]
        if tonumber(grace) <= now then grace = '0' end
        redis.call('HSET', KEYS[1], 'rotated', ARGV[3], 'grace', grace, 'expires', ARGV[5])
        if grace == '0' then redis.call('HDEL', KEYS[1], 'data') end
        redis.call('PEXPIREAT', KEYS[1], ARGV[5])
        if EV then
            emit('rotated', ARGV[3], EVH, s[5] or '', s[6] or '', ARGV[1])
            unschedule(EVH)
        end
        return {1}
        """

    /// KEYS[1] a copy's session key; ARGV: the original's handle. Deletes the copy only while it
    /// is pending from that original. Returns {1, isub, iexp} when deleted, else {0}.
    static let withdraw = """
        local s = redis.call('HMGET', KEYS[1], 'pending', 'from', 'isub', 'iexp')
        if not s[1] or s[2] ~= ARGV[1] then return {0} end
        redis.call('DEL', KEYS[1])
        return {1, s[3] or '', tonumber(s[4] or '0')}
        """

    /// KEYS[1] a frozen original's session key; ARGV: the successor's handle. Deletes the frozen
    /// record only while it names that successor (the successor was removed: its grace window
    /// ends). Returns {1, isub, iexp} when deleted, else {0}.
    static let endWindow = """
        local s = redis.call('HMGET', KEYS[1], 'rotated', 'isub', 'iexp')
        if s[1] ~= ARGV[1] then return {0} end
        redis.call('DEL', KEYS[1])
        return {1, s[2] or '', tonumber(s[3] or '0')}
        """
}
