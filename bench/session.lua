-- wrk script for bench/run: one operation per measurement, with a 1 KiB session.
-- Environment:
--   OP     get | put | post | patch | touch | rotate | livez (sessiond), nio (the plain NIO
--          ceiling: GET /), wget | wsetex (webdis: GET of a stored key, SETEX through a PUT
--          body), mix (the soak: GET, PUT, PATCH, POST, DELETE, touch and /livez)
--   SIDS   file with one sid per line (get, put, patch, touch, rotate, mix)
--   KEYS   number of webdis keys, named KEY_PREFIX0 .. KEY_PREFIX(KEYS-1) (wget, wsetex)
--   KEY_PREFIX  prefix of the webdis keys (default "bench:webdis:", and "bench:webdis-put:" for
--          wsetex, so that SETEX does not change what wget reads)
--   SIDS_OUT  mix: file to write the sids still live at the end (for a next soak period)
--   LIMIT  optional: each thread stops after this many requests
--   THREADS  wrk's -t when it is not 1 (rotate and mix split the sids between threads)
-- For rotate, each thread takes its own share of the sids and continues with the new sid of
-- each answer (the old one is gone). For mix, a POST's new sid joins the pool and a DELETE takes
-- its sid out, so the number of live sessions stays about the seeded one for any soak length.
-- response() is defined only for the ops that need it: wrk does less work per request without
-- it, which matters when wrk has one core for itself.
local op = os.getenv("OP") or "get"
local limit = tonumber(os.getenv("LIMIT") or "0")
local keys = tonumber(os.getenv("KEYS") or "1000")
local key_prefix = os.getenv("KEY_PREFIX") or (op == "wsetex" and "bench:webdis-put:" or "bench:webdis:")
-- Threads split the sids of rotate and mix between them; wrk runs init before it has set up
-- every thread, so the count comes from the environment (bench/run runs wrk -t1).
local nthreads = tonumber(os.getenv("THREADS") or "1")
sids = {} -- global: done() reads it through thread:get for SIDS_OUT
local seeded = 0
local count = 0

local filler = string.rep("x", 1024 - 40)
local body = '{"data":{"user":42,"cart":[1,2,3],"blob":"' .. filler .. '"}}'
local json = {["Content-Type"] = "application/json"}
local merge = {["Content-Type"] = "application/merge-patch+json"}

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  local path = os.getenv("SIDS")
  local n = 0
  if path and path ~= "" then
    for line in io.lines(path) do
      if (op ~= "rotate" and op ~= "mix") or n % nthreads == id then sids[#sids + 1] = line end
      n = n + 1
    end
  end
  seeded = #sids
  statuses = {}
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

if op == "rotate" or op == "mix" then
  function response(status, headers, body)
    local class = tostring(status)
    statuses[class] = (statuses[class] or 0) + 1
    if status == 201 then
      sids[#sids + 1] = string.sub(headers["Location"], #"/sessions/" + 1)
    end
  end
end

-- Takes a random sid out of the pool (it is in flight: a rotation, or gone: a delete).
local function take()
  local at = math.random(#sids)
  local sid = sids[at]
  sids[at] = sids[#sids]
  sids[#sids] = nil
  return sid
end

local function mixed()
  local r = math.random(100)
  -- Keep the pool between half and twice the seeded size: POST and DELETE are equally likely,
  -- a random walk, so the bounds only act on long soaks.
  if r <= 40 then
    return wrk.format("GET", "/sessions/" .. sids[math.random(#sids)])
  elseif r <= 50 then
    return wrk.format("PUT", "/sessions/" .. sids[math.random(#sids)], json, body)
  elseif r <= 60 then
    return wrk.format("PATCH", "/sessions/" .. sids[math.random(#sids)], merge,
      '{"data":{"cart":[' .. math.random(1000) .. ']}}')
  elseif r <= 70 then
    return wrk.format("POST", "/sessions/" .. sids[math.random(#sids)] .. "/touch")
  elseif r <= 80 then
    return wrk.format("GET", "/livez")
  elseif (r <= 90 and #sids < 2 * seeded) or #sids <= seeded / 2 then
    return wrk.format("POST", "/sessions", json, body)
  end
  return wrk.format("DELETE", "/sessions/" .. take())
end

function request()
  count = count + 1
  if limit > 0 and count > limit then
    wrk.thread:stop()
  end
  if op == "livez" then
    return wrk.format("GET", "/livez")
  elseif op == "nio" then
    return wrk.format("GET", "/")
  elseif op == "wget" then
    return wrk.format("GET", "/GET/" .. key_prefix .. (math.random(keys) - 1) .. "?type=application/json")
  elseif op == "wsetex" then
    return wrk.format("PUT", "/SETEX/" .. key_prefix .. (math.random(keys) - 1) .. "/86400", json, body)
  elseif op == "post" then
    return wrk.format("POST", "/sessions", json, body)
  elseif op == "mix" then
    return mixed()
  elseif op == "rotate" then
    return wrk.format("POST", "/sessions/" .. take() .. "/rotate")
  end
  local sid = sids[math.random(#sids)]
  if op == "patch" then
    return wrk.format("PATCH", "/sessions/" .. sid, merge, '{"data":{"cart":[' .. math.random(1000) .. ']}}')
  elseif op == "touch" then
    return wrk.format("POST", "/sessions/" .. sid .. "/touch")
  elseif op == "put" then
    return wrk.format("PUT", "/sessions/" .. sid, json, body)
  end
  return wrk.format("GET", "/sessions/" .. sid)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  local byclass = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if s then
      for k, v in pairs(s) do byclass[k] = (byclass[k] or 0) + v end
    end
  end
  local parts = {}
  for k, v in pairs(byclass) do parts[#parts + 1] = k .. ":" .. v end
  table.sort(parts)
  -- mix: the pool of live sessions, for the next soak period to start from.
  local out = os.getenv("SIDS_OUT")
  if out and out ~= "" then
    local f = assert(io.open(out, "w"))
    for _, thread in ipairs(threads) do
      for _, sid in ipairs(thread:get("sids") or {}) do f:write(sid, "\n") end
    end
    f:close()
  end
  io.write(string.format("RESULT requests=%d seconds=%.3f errors=%d status_errors=%d p50_us=%d p99_us=%d statuses=%s\n",
    summary.requests, summary.duration / 1e6, errors, summary.errors.status, latency:percentile(50),
    latency:percentile(99), #parts > 0 and table.concat(parts, ",") or "-"))
end
