-- PUT (or BENCH_METHOD) a new key on every request: <url path>/t<thread>-<n>.
-- The URL given to wrk is the prefix (a directory); use a fresh prefix per run.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
wrk.method  = common.method
wrk.body    = common.form_body()
wrk.headers = common.form_headers

local counter = 0
local prefix

function request()
  if not prefix then prefix = wrk.path .. "/t" .. tostring(thread_id or 0) .. "-" end
  counter = counter + 1
  return wrk.format(nil, prefix .. counter)
end
