--[[
  The daemon's sweep of one pool: brings back into the tier sets the numbers whose limit window or
  rest has ended. Each pick does this for a small batch only (it must stay O(1) in the pool size),
  so right after an hour or day boundary frees many numbers, picks would otherwise choose among the
  few already back, out of local-presence and LRU order, until enough picks had run.

  KEYS[1] pool cool ZSET
  ARGV[1] key base  ARGV[2] pool id  ARGV[3] now (ms)
  ARGV[4] hour bucket id  ARGV[5] hour end (ms)  ARGV[6] day bucket id  ARGV[7] day end (ms)
  ARGV[8] most numbers to look at in this call
  Returns {numbers looked at, numbers still due}.
]]
--@include cid-common.lua
fresh_run()

local now = tonumber(ARGV[3])
local looked = promote_due(ARGV[1], ARGV[2], KEYS[1], now, ARGV[4], tonumber(ARGV[5]), ARGV[6],
  tonumber(ARGV[7]), tonumber(ARGV[8]))
return { looked, redis.call('ZCOUNT', KEYS[1], '-inf', now) }
