-- wrk script for one session operation with a 1 KiB session.
-- Environment: SIDS (file with one sid per line), OP (get | put | post | livez),
-- LIMIT (optional: each thread stops after this many requests).
local op = os.getenv("OP") or "get"
local limit = tonumber(os.getenv("LIMIT") or "0")
local sids = {}
local count = 0

local filler = string.rep("x", 1024 - 40)
local body = '{"data":{"user":42,"cart":[1,2,3],"blob":"' .. filler .. '"}}'

function init(args)
  local path = os.getenv("SIDS")
  if path and path ~= "" then
    for line in io.lines(path) do sids[#sids + 1] = line end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  count = count + 1
  if limit > 0 and count > limit then
    wrk.thread:stop()
  end
  if op == "livez" then
    return wrk.format("GET", "/livez")
  elseif op == "post" then
    return wrk.format("POST", "/sessions", {["Content-Type"] = "application/json"}, body)
  end
  local sid = sids[math.random(#sids)]
  if op == "put" then
    return wrk.format("PUT", "/sessions/" .. sid, {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/sessions/" .. sid)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.3f errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration / 1e6, errors, latency:percentile(50), latency:percentile(99)))
end
