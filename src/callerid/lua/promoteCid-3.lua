--[[
  The daemon's sweep of one pool: brings back into the tier sets the numbers whose limit window or
  rest has ended. Each pick does this for a small batch only (it must stay O(1) in the pool size),
  so right after an hour or day boundary frees many numbers, picks would otherwise choose among the
  few already back, out of local-presence and LRU order, until enough picks had run.

  KEYS[1] pool cool ZSET  KEYS[2] prefix of the number hashes  KEYS[3] prefix of the pool keys
  Keys named by data (built from KEYS[2], KEYS[3]): the hashes of the cool set's due members and
  their tier sets. Which members are due is found by this script (a pick promotes some too).
  ARGV[1] pool id  ARGV[2] now (ms)
  ARGV[3] hour bucket id  ARGV[4] hour end (ms)  ARGV[5] day bucket id  ARGV[6] day end (ms)
  ARGV[7] most numbers to look at in this call
  Returns {numbers looked at, numbers still due}.
]]
--@include cid-common.lua
fresh_run()

local now = tonumber(ARGV[2])
local looked = promote_due(cid_keys(KEYS[2], KEYS[3]), ARGV[1], KEYS[1], now, ARGV[3], tonumber(ARGV[4]),
  ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]))
return { looked, redis.call('ZCOUNT', KEYS[1], '-inf', now) }
