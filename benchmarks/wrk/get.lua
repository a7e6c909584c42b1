-- GET one key, over and over (the URL given to wrk is the key's URL).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
wrk.method = "GET"
