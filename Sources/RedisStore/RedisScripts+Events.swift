extension RedisScripts {
    /// The event half of the session scripts (`GET /events`). A script runs it only when it was
    /// given the namespace's event keys after its session key: KEYS[2] the stream (`XADD` with
    /// `MAXLEN ~`), KEYS[3] the expiry schedule (a sorted set: handle, scored by its session's
    /// expiry in ms), KEYS[4] who each scheduled session is (a hash: handle to subject, a tab,
    /// and the device JSON); and, as its last two ARGV, its session's handle and the history
    /// length. Without them (`--event-history 0`, or Redis Cluster, where a namespace's keys
    /// live in other slots than its sessions) the scripts write no event.
    ///
    /// Events are written in the script that makes the change, so an event exists if and only
    /// if its change happened. Expiries need no keyspace notification: every script that sets
    /// a session's expiry sets its score in the schedule too, in the same step, so the schedule
    /// always knows when each live session expires, and `expireDue` (run each second by every
    /// sessiond) moves what is due into the stream, once. (A session stored before events were
    /// turned on joins the schedule at its first write or touch; one never written again
    /// expires untold.)
    static let eventFunctions = #"""
        local EV, EVH, EVMAX = KEYS[2], ARGV[#ARGV - 1], ARGV[#ARGV]
        local function emit(kind, handle, from, subject, device, time)
            redis.call('XADD', EV, 'MAXLEN', '~', EVMAX, '*', 'k', kind, 'h', handle, 'f', from, 's', subject, 'd', device, 't', time)
        end
        local function schedule(handle, expires, subject, device)
            redis.call('ZADD', KEYS[3], expires, handle)
            redis.call('HSET', KEYS[4], handle, subject .. '\t' .. device)
        end
        local function unschedule(handle)
            redis.call('ZREM', KEYS[3], handle)
            redis.call('HDEL', KEYS[4], handle)
        end
        local function whoIs(handle)
            local who = redis.call('HGET', KEYS[4], handle) or '\t'
            local tab = string.find(who, '\t', 1, true)
            return string.sub(who, 1, tab - 1), string.sub(who, tab + 1)
        end
        local function expiredBefore(handle, now)
            local due = redis.call('ZSCORE', KEYS[3], handle)
            if due and tonumber(due) <= now then
                local subject, device = whoIs(handle)
                emit('expired', handle, '', subject, device, due)
                unschedule(handle)
            end
        end
        """#

    /// KEYS[1] stream, KEYS[2] expiry schedule, KEYS[3] who (as in `eventFunctions`); ARGV: now,
    /// history length, most entries to move. Records `expired` for each scheduled session whose
    /// expiry has come (timed at the expiry), and drops it from the schedule. Returns how many.
    static let expireDue = #"""
        local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
        for i = 1, #due, 2 do
            local handle = due[i]
            local who = redis.call('HGET', KEYS[3], handle) or '\t'
            local tab = string.find(who, '\t', 1, true)
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'k', 'expired', 'h', handle, 'f', '',
                       's', string.sub(who, 1, tab - 1), 'd', string.sub(who, tab + 1), 't', due[i + 1])
            redis.call('ZREM', KEYS[2], handle)
            redis.call('HDEL', KEYS[3], handle)
        end
        return #due / 2
        """#

    /// KEYS[1] stream; ARGV: the position to read after ("" for none: the newest), most entries.
    /// Returns {cursor, first, entries}: with no position, the newest ID ("0-0" for an empty
    /// stream), "" and none; else the position, the oldest ID held ("" for none: the caller
    /// compares, to tell a consumer that fell behind the history) and the entries after it.
    static let eventsRead = """
        if ARGV[1] == '' then
            local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
            if #last == 0 then return {'0-0', '', {}} end
            return {last[1][1], '', {}}
        end
        local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
        local oldest = ''
        if #first > 0 then oldest = first[1][1] end
        return {ARGV[1], oldest, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))}
        """
}
