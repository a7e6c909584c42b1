-- PUT keys <url path>/<n> for n = FILL_FROM .. FILL_TO (inclusive), each exactly once, then stop.
-- The URL given to wrk is the prefix (a directory, e.g. .../v1/keys/fill). Used by store-scale.py.
--
-- Environment:
--   FILL_FROM, FILL_TO  the range of key numbers (inclusive)
--   FILL_THREADS        wrk's -t: thread i writes FILL_FROM+i, FILL_FROM+i+FILL_THREADS, ...
--   BENCH_VALUE         the value (common.lua)
--
-- A thread stops (wrk.thread:stop()) once every key of its share has been answered: 2xx, or a
-- failure, counted in fill_failed; it then prints "FILL_DONE thread=<i> ok=<n> failed=<n>" on
-- stderr. wrk itself still sleeps for its whole -d, so the caller sends SIGINT once it has seen
-- one FILL_DONE per thread; wrk then prints its summary (common.lua's BENCH_RESULT line).
-- After its share is issued, a thread's other connections send GETs of FILL_IDLE_PATH (a key that
-- exists; default the thread's first key) to keep wrk's connections busy until the last PUT is
-- answered; they are not counted as writes. An answer is a written key when it is 2xx and its
-- body has "action":"set" (v2) or "action":"SET" (v1); any other non-200 answer while the thread
-- still has PUTs unanswered is a failed PUT.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local from    = tonumber(os.getenv("FILL_FROM") or "1")
local to      = tonumber(os.getenv("FILL_TO") or "1000")
local nthread = tonumber(os.getenv("FILL_THREADS") or "1")

local base_setup, base_response, base_done = setup, response, done
local fill_threads = {}

function setup(thread)
  base_setup(thread)
  table.insert(fill_threads, thread)
end

function done(summary, latency, requests)
  base_done(summary, latency, requests)
  local ok, failed = 0, 0
  for _, t in ipairs(fill_threads) do
    ok = ok + (t:get("fill_ok") or 0)
    failed = failed + (t:get("fill_failed") or 0)
  end
  io.write(string.format("FILL_RESULT ok=%d failed=%d\n", ok, failed))
end

local body    = common.form_body()
local headers = common.form_headers

local next_n, quota, issued, ok, failed, stopped, get_path, verify_call

function init(args)
  local id = thread_id or 0
  next_n = from + id
  quota = 0
  if next_n <= to then quota = math.floor((to - next_n) / nthread) + 1 end
  issued, ok, failed, stopped = 0, 0, 0, false
  get_path = os.getenv("FILL_IDLE_PATH") or (wrk.path .. "/" .. tostring(from + id))
  -- wrk 4 calls thread 0's request() once before the run to check the request (and sends it
  -- never): that call must not use up a key
  verify_call = (id == 0)
  fill_ok, fill_failed = 0, 0
  if quota == 0 then
    io.stderr:write(string.format("FILL_DONE thread=%d ok=0 failed=0\n", id))
    stopped = true
  end
end

function request()
  if verify_call then
    verify_call = false
    return wrk.format(common.method, wrk.path .. "/" .. tostring(next_n), headers, body)
  end
  if issued < quota then
    local n = next_n
    next_n = next_n + nthread
    issued = issued + 1
    return wrk.format(common.method, wrk.path .. "/" .. tostring(n), headers, body)
  end
  return wrk.format("GET", get_path)
end

function response(status, hdrs, resp)
  base_response(status, hdrs, resp)
  if stopped then return end
  if status >= 200 and status < 300 and resp
      and (string.find(resp, '"action":"set"', 1, true) or string.find(resp, '"action":"SET"', 1, true)) then
    ok = ok + 1
  elseif status ~= 200 and ok + failed < issued then
    failed = failed + 1
  end
  fill_ok, fill_failed = ok, failed
  if ok + failed >= quota then
    stopped = true
    io.stderr:write(string.format("FILL_DONE thread=%d ok=%d failed=%d\n", thread_id or 0, ok, failed))
    io.stderr:flush()
    wrk.thread:stop()
  end
end
