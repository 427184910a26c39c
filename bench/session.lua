-- wrk script for one session operation with a 1 KiB session.
-- Environment: SIDS (file with one sid per line), OP (get | put | post | patch | touch |
-- rotate | livez), LIMIT (optional: each thread stops after this many requests).
-- For rotate, each thread takes its own share of the sids and continues with the new sid of
-- each answer (the old one is gone).
local op = os.getenv("OP") or "get"
local limit = tonumber(os.getenv("LIMIT") or "0")
local sids = {}
local count = 0

local filler = string.rep("x", 1024 - 40)
local body = '{"data":{"user":42,"cart":[1,2,3],"blob":"' .. filler .. '"}}'

local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  local path = os.getenv("SIDS")
  local n = 0
  if path and path ~= "" then
    for line in io.lines(path) do
      if op ~= "rotate" or n % 2 == id then sids[#sids + 1] = line end
      n = n + 1
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function response(status, headers, body)
  if op == "rotate" and status == 201 then
    sids[#sids + 1] = string.sub(headers["Location"], #"/sessions/" + 1)
  end
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
  if op == "rotate" then
    -- A sid whose rotation is in flight is taken out of the pool until its answer comes.
    local at = math.random(#sids)
    local sid = sids[at]
    sids[at] = sids[#sids]
    sids[#sids] = nil
    return wrk.format("POST", "/sessions/" .. sid .. "/rotate")
  end
  local sid = sids[math.random(#sids)]
  if op == "patch" then
    return wrk.format("PATCH", "/sessions/" .. sid, {["Content-Type"] = "application/merge-patch+json"},
      '{"data":{"cart":[' .. math.random(1000) .. ']}}')
  elseif op == "touch" then
    return wrk.format("POST", "/sessions/" .. sid .. "/touch")
  elseif op == "put" then
    return wrk.format("PUT", "/sessions/" .. sid, {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/sessions/" .. sid)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.3f errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration / 1e6, errors, latency:percentile(50), latency:percentile(99)))
end
