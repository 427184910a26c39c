/// The Lua scripts that make the store's writes atomic. Each touches one key only (a session's,
/// or a subject index's), so they run unchanged on Redis Cluster.
///
/// A session is a hash under `prefix + handle`: `data` (compact JSON), `permanent` ("1"/"0"),
/// `subject` (absent for none), `lifetime` (the session's own, in milliseconds; absent for
/// none), `version`, `created`, `updated`, `expires` (milliseconds since the epoch), and `isub`/`iexp`: the subject index entry that covers the session (its subject
/// and score; see `RedisSubjectIndex`). The key's own expiry is `PEXPIREAT expires`.
///
/// A rotation adds (see `RedisScripts+Rotation.swift`): on a frozen original, `rotated` (the
/// successor's handle, never a sid) and `grace` (ms: read-only until then); on a copy, `from`
/// (the original's handle) and, until it is confirmed, `pending` ("1").
///
/// Write replies are arrays whose first element says what happened:
/// `{0}` not found; `{1, data, permanent, subject, version, created, updated, expires, lifetime,
/// from, device, seen}` written (from: a confirmed copy's original, or ""; device "" for none); `{2, version}` condition failed; `{3, subject, expires}` the subject index must cover this first;
/// `{4}` merged data too large; `{5}` a frozen original in its grace window (read-only);
/// `{6, from}` a copy pending from that original.
enum RedisScripts {
    /// RFC 7396 merge patch on compact JSON text, without decoding numbers or strings: values are
    /// copied as text, so they keep their exact form. Both texts are the compact, canonically
    /// escaped output of `JSONValue.compactJSON()`, so equal keys have equal text.
    static let mergeFunctions = #"""
        local function skip(s, i)
            local c = string.byte(s, i)
            if c == 34 then
                local j = i + 1
                while true do
                    local k = string.find(s, '["\\]', j)
                    if string.byte(s, k) == 92 then j = k + 2 else return k + 1 end
                end
            elseif c == 123 or c == 91 then
                local depth, j = 0, i
                while true do
                    local k = string.find(s, '[%[%]{}"]', j)
                    local b = string.byte(s, k)
                    if b == 34 then
                        j = skip(s, k)
                    else
                        if b == 123 or b == 91 then depth = depth + 1 else depth = depth - 1 end
                        j = k + 1
                        if depth == 0 then return j end
                    end
                end
            end
            return (string.find(s, '[,}%]]', i)) or (#s + 1)
        end
        local function members(s)
            local out = {}
            if s == '{}' then return out end
            local i = 2
            while true do
                local ke = skip(s, i)
                local ve = skip(s, ke + 1)
                out[#out + 1] = {string.sub(s, i, ke - 1), string.sub(s, ke + 1, ve - 1)}
                if string.byte(s, ve) == 125 then return out end
                i = ve + 1
            end
        end
        local function merge(target, patch)
            if string.byte(patch, 1) ~= 123 then return patch end
            local list = {}
            if target and string.byte(target, 1) == 123 then list = members(target) end
            local at = {}
            for n, m in ipairs(list) do at[m[1]] = n end
            for _, p in ipairs(members(patch)) do
                local n = at[p[1]]
                if p[2] == 'null' then
                    if n then list[n][2] = false end
                elseif n then
                    list[n][2] = merge(list[n][2] or nil, p[2])
                else
                    list[#list + 1] = {p[1], merge(nil, p[2])}
                    at[p[1]] = #list
                end
            end
            local parts = {}
            for _, m in ipairs(list) do
                if m[2] then parts[#parts + 1] = m[1] .. ':' .. m[2] end
            end
            return '{' .. table.concat(parts, ',') .. '}'
        end
        """#

    /// The expiry rule of `LifetimePolicy.expiry`: `now` + lifetime (the session's own, `own`,
    /// when it is not ''), capped at created + absolute.
    static let expiryFunction = """
        local function expiry(now, created, permanent, standard, long, absolute, own)
            local lifetime = standard
            if permanent == '1' then lifetime = long end
            if own ~= '' then lifetime = tonumber(own) end
            local expires = now + lifetime
            if absolute >= 0 and created + absolute < expires then expires = created + absolute end
            return expires
        end
        local function allowed(condition, version)
            if condition == '*' then return true end
            for v in string.gmatch(condition, '%d+') do
                if tonumber(v) == version then return true end
            end
            return false
        end
        """

    /// KEYS[1] session key; ARGV: data, permanent, subject ("" none), version, created, updated,
    /// expires, isub, iexp (the index entry the caller made, or "" and 0), lifetime ("" none),
    /// the original's handle for a rotation's copy, stored pending ("" for none), device (""
    /// for none), last seen; then the event arguments (`eventFunctions`). Records `created`
    /// unless it is a rotation's copy (and `expired` for an earlier life of the key not yet told).
    /// Returns 1 when stored, 0 when a live session has the key (one whose `expires` is after
    /// `updated`, the caller's now; an expired one that Redis has not dropped yet is replaced).
    static let insert = eventFunctions + "\n" + """
        local held = redis.call('HGET', KEYS[1], 'expires')
        if held then
            if tonumber(held) > tonumber(ARGV[6]) then return 0 end
            redis.call('DEL', KEYS[1])
        end
        redis.call('HSET', KEYS[1], 'data', ARGV[1], 'permanent', ARGV[2], 'version', ARGV[4], 'created', ARGV[5],
                   'updated', ARGV[6], 'expires', ARGV[7], 'isub', ARGV[8], 'iexp', ARGV[9])
        if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'subject', ARGV[3]) end
        if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'lifetime', ARGV[10]) end
        if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'from', ARGV[11], 'pending', '1') end
        if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'device', ARGV[12]) end
        redis.call('HSET', KEYS[1], 'seen', ARGV[13])
        redis.call('PEXPIREAT', KEYS[1], ARGV[7])
        if EV then
            expiredBefore(EVH, tonumber(ARGV[6]))
            if ARGV[11] == '' then
                emit('created', EVH, '', ARGV[3], ARGV[12], ARGV[6])
                schedule(EVH, ARGV[7], ARGV[3], ARGV[12])
            end
        end
        return 1
        """

    /// KEYS[1] session key; ARGV: 1 now, 2 op ("replace", "patch", "touch", "confirm"), 3 condition ("*"
    /// or versions separated by commas, "" for none), 4 standard, 5 permanent, 6 absolute (-1
    /// for none) lifetime, 7 granted subject, 8 granted score (an index entry the caller made
    /// just now, or "" and 0), 9 data (replace) or data patch ("" for none), 10 permanent ("1",
    /// "0", or "" to keep on a patch), 11 subject mode ("s" set, "n" none, "k" keep), 12 subject,
    /// 13 most bytes of merged data, 14 lifetime mode ("s", "n", "k" as for the subject), 15
    /// lifetime (ms), 16 device mode ("s", "n", "k" as for the subject), 17 device (compact
    /// JSON); then the event arguments (`eventFunctions`: the new expiry is scheduled). The rule
    /// of `Session.applying(_:at:policy:)`. "confirm" takes the original's handle as 9 and
    /// applies to a copy from it only (as a touch that clears `pending`).
    static let update = mergeFunctions + "\n" + expiryFunction + "\n" + eventFunctions + "\n" + updateBody

    /// `update` for "replace" and "touch": the same rule without the merge functions, which
    /// Redis would otherwise define again on every call. A replace answers "" for the data,
    /// which the caller sent.
    static let replaceOrTouch = expiryFunction + "\n" + eventFunctions + "\n" + updateBody

    private static let updateBody = """
        local s = redis.call('HMGET', KEYS[1], 'data', 'permanent', 'subject', 'version', 'created', 'updated',
                             'expires', 'isub', 'iexp', 'lifetime', 'rotated', 'grace', 'pending', 'from', 'device')
        if not s[4] then return {0} end
        local now = tonumber(ARGV[1])
        if tonumber(s[7]) <= now then
            redis.call('DEL', KEYS[1])
            return {0}
        end
        if s[11] then
            if tonumber(s[12]) > now then return {5} end
            return {0}
        end
        local op = ARGV[2]
        if op == 'confirm' then
            if s[14] ~= ARGV[9] then return {0} end
        elseif s[13] then
            return {6, s[14]}
        end
        local version = tonumber(s[4])
        if not allowed(ARGV[3], version) then return {2, version} end
        local data, permanent, subject, updated, own = s[1], s[2], s[3] or '', s[6], s[10] or ''
        if ARGV[14] == 's' then own = ARGV[15] elseif ARGV[14] == 'n' then own = '' end
        local device = s[15] or ''
        if ARGV[16] == 's' then device = ARGV[17] elseif ARGV[16] == 'n' then device = '' end
        if op == 'replace' then
            data = ARGV[9]
            permanent = ARGV[10]
            if ARGV[11] == 's' then subject = ARGV[12] else subject = '' end
        elseif op == 'patch' then
            if ARGV[9] ~= '' then
                data = merge(data, ARGV[9])
                if #data > tonumber(ARGV[13]) then return {4} end
            end
            if ARGV[10] ~= '' then permanent = ARGV[10] end
            if ARGV[11] == 's' then subject = ARGV[12] elseif ARGV[11] == 'n' then subject = '' end
        end
        if op ~= 'touch' and op ~= 'confirm' then
            version = version + 1
            updated = ARGV[1]
        end
        local expires = expiry(now, tonumber(s[5]), permanent, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), own)
        local isub, iexp = s[8] or '', tonumber(s[9] or '0')
        if subject ~= '' and not (isub == subject and iexp >= expires) then
            if ARGV[7] == subject and tonumber(ARGV[8]) >= expires then
                isub, iexp = subject, tonumber(ARGV[8])
            else
                return {3, subject, expires}
            end
        end
        if subject == '' then isub, iexp = '', 0 end
        if op == 'touch' or op == 'confirm' then
            redis.call('HSET', KEYS[1], 'expires', expires, 'isub', isub, 'iexp', iexp)
            if op == 'confirm' then redis.call('HDEL', KEYS[1], 'pending') end
        else
            redis.call('HSET', KEYS[1], 'data', data, 'permanent', permanent, 'version', version, 'updated', updated,
                       'expires', expires, 'isub', isub, 'iexp', iexp)
            if subject == '' then
                redis.call('HDEL', KEYS[1], 'subject')
            else
                redis.call('HSET', KEYS[1], 'subject', subject)
            end
            if own == '' then
                redis.call('HDEL', KEYS[1], 'lifetime')
            else
                redis.call('HSET', KEYS[1], 'lifetime', own)
            end
            if device == '' then
                redis.call('HDEL', KEYS[1], 'device')
            else
                redis.call('HSET', KEYS[1], 'device', device)
            end
        end
        redis.call('HSET', KEYS[1], 'seen', ARGV[1])
        redis.call('PEXPIREAT', KEYS[1], expires)
        if EV then schedule(EVH, expires, subject, device) end
        if op == 'replace' then data = '' end
        return {1, data, permanent, subject, version, s[5], updated, expires, own, s[14] or '', device, ARGV[1]}
        """

    /// KEYS[1] session key; ARGV: now, condition (as for `update`), required subject ("" for
    /// any: a removal by sid), the event's kind ("deleted", "revoked" or "limit_evicted"), then
    /// the event arguments (`eventFunctions`; a frozen record or pending copy makes no event). Returns {0} when absent, expired or of another subject; {2,
    /// version} when the condition fails; by sid, {5} for a frozen original in its grace window
    /// (which stays) and {0} for one past it; else deletes and returns {1, isub, iexp, from}
    /// (from: the original's handle of a copy, whose frozen record the caller removes next, or "").
    static let remove = expiryFunction + "\n" + eventFunctions + "\n" + """
        local s = redis.call('HMGET', KEYS[1], 'version', 'expires', 'subject', 'isub', 'iexp', 'rotated', 'grace', 'from',
                             'device', 'pending')
        if not s[1] then return {0} end
        if tonumber(s[2]) <= tonumber(ARGV[1]) then
            redis.call('DEL', KEYS[1])
            return {0}
        end
        if ARGV[3] ~= '' and s[3] ~= ARGV[3] then return {0} end
        if ARGV[3] == '' and s[6] then
            if tonumber(s[7]) > tonumber(ARGV[1]) then return {5} end
            return {0}
        end
        local version = tonumber(s[1])
        if not allowed(ARGV[2], version) then return {2, version} end
        redis.call('DEL', KEYS[1])
        if EV then
            if not s[6] and not s[10] then emit(ARGV[4], EVH, '', s[3] or '', s[9] or '', ARGV[1]) end
            unschedule(EVH)
        end
        return {1, s[4] or '', tonumber(s[5] or '0'), s[8] or ''}
        """

    /// KEYS[1] subject index (a sorted set: member handle, score = a time in ms by which the
    /// session is surely gone); ARGV: now, handle, wanted score. Drops entries whose score has
    /// passed, then sets the handle's score to the wanted one, or to one more than its current
    /// score when that is not lower: every grant raises the score, so a conditional removal
    /// (`indexRemove`) that saw an older score can never undo it. The key expires with its
    /// highest score. Returns the score set.
    static let indexAdd = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        local score = tonumber(ARGV[3])
        local current = redis.call('ZSCORE', KEYS[1], ARGV[2])
        if current and tonumber(current) >= score then score = tonumber(current) + 1 end
        redis.call('ZADD', KEYS[1], score, ARGV[2])
        local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
        redis.call('PEXPIREAT', KEYS[1], top[2])
        return score
        """

    /// KEYS[1] subject index; ARGV: now, then pairs of handle and score. Removes each handle
    /// whose score is still the given one (a newer grant keeps it), and entries whose score has
    /// passed. Returns how many entries remain.
    static let indexRemove = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        for i = 2, #ARGV - 1, 2 do
            local current = redis.call('ZSCORE', KEYS[1], ARGV[i])
            if current and tonumber(current) == tonumber(ARGV[i + 1]) then redis.call('ZREM', KEYS[1], ARGV[i]) end
        end
        return redis.call('ZCARD', KEYS[1])
        """

    /// KEYS[1] subject index; ARGV: now. Drops entries whose score has passed and returns the
    /// rest as {handle, score, ...}.
    static let indexList = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
        """

    /// In the order `RedisConnectionPool` loads them.
    static let all = [
        insert, update, remove, indexAdd, indexRemove, indexList, replaceOrTouch, freeze, withdraw, endWindow, limitAdmit, limitSeen,
        expireDue, eventsRead,
    ]
    static let insertIndex = 0
    static let updateIndex = 1
    static let removeIndex = 2
    static let indexAddIndex = 3
    static let indexRemoveIndex = 4
    static let indexListIndex = 5
    static let replaceOrTouchIndex = 6
    static let freezeIndex = 7
    static let withdrawIndex = 8
    static let endWindowIndex = 9
    static let limitAdmitIndex = 10
    static let limitSeenIndex = 11
    static let expireDueIndex = 12
    static let eventsReadIndex = 13
}
