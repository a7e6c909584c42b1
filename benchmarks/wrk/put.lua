-- PUT (or BENCH_METHOD) the same key over and over, form body "value=...[&ttl=N]".
-- The URL given to wrk is the key's URL. With BENCH_TTL=60 this is the "PUT ttl=60" case.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
wrk.method  = common.method
wrk.body    = common.form_body()
wrk.headers = common.form_headers
