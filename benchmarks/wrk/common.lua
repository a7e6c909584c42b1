-- Shared by every benchmark script (loaded with dofile from the script's own folder).
--
-- Counts responses by HTTP status in every wrk thread and, in done(), prints one
-- machine-readable line that run.sh parses:
--   BENCH_RESULT rps=.. requests=.. duration_s=.. p50_ms=.. p99_ms=.. max_ms=..
--                ok_2xx=.. non_2xx=.. codes=201:123,200:456 err_connect=.. ...
-- Any non-2xx answer counts as bad: wrk itself only flags statuses > 399, but a 3xx
-- (e.g. a 307 to the leader) is not followed by wrk, so nothing was read or written.
--
-- Environment (all optional):
--   BENCH_METHOD  HTTP method for writes (default PUT)
--   BENCH_VALUE   value written (default "bench-value-0123456789")
--   BENCH_TTL     if set, "&ttl=<BENCH_TTL>" is added to the form body

local M = {}

M.method = os.getenv("BENCH_METHOD") or "PUT"
M.value  = os.getenv("BENCH_VALUE") or "bench-value-0123456789"
M.ttl    = os.getenv("BENCH_TTL")
if M.ttl == "" then M.ttl = nil end

function M.form_body()
  local b = "value=" .. M.value
  if M.ttl then b = b .. "&ttl=" .. M.ttl end
  return b
end

M.form_headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

-- ---- per-thread status counting -------------------------------------------
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- thread-local globals (each thread has its own Lua state)
status_counts = {}

function response(status, headers, body)
  status_counts[status] = (status_counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes, ok, bad = {}, 0, 0
  for _, t in ipairs(threads) do
    local c = t:get("status_counts") or {}
    for code, n in pairs(c) do codes[code] = (codes[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do
    if code >= 200 and code < 300 then ok = ok + n else bad = bad + n end
    table.insert(parts, code .. ":" .. n)
  end
  table.sort(parts)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH_RESULT rps=%.1f requests=%d duration_s=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "ok_2xx=%d non_2xx=%d codes=%s err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d\n",
    summary.requests / secs, summary.requests, secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    ok, bad, (#parts > 0 and table.concat(parts, ",") or "none"),
    e.connect, e.read, e.write, e.timeout, e.status))
end

return M
