--[[
  Put back a live call's slot after Redis lost its data: the slot's state and its place in every
  owner's live set (concurrency), and its use of the hour, day and month it was taken in, as
  takeSlot-n had counted them. No cap is checked: the call is up. The total counter is left to be
  seeded from PostgreSQL by the next take (a count made here would stop that seed); when it exists
  already, this slot's use is added to it.
  KEYS as takeSlot-n without the epoch: the slot state, then 5 per owner (live, hourly, daily,
  monthly, total).
  ARGV[1] now (ms)  ARGV[2] slot ttl (ms)  ARGV[3] slot id  ARGV[4..6] hour, day, month key ttl (s)
  ARGV[7..9] the link's hour, day, month bucket ids  ARGV[10] node  ARGV[11] other owners (`o`)
  ARGV[12] the state to restore: taken or answered
  Returns 1 restored, 0 the slot exists already.
]]
--@include slot-common.lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local owners = (#KEYS - 1) / 5
count_slot(owners, ARGV[3], now, ttl, 'if_present')
redis.call('HSET', KEYS[1], 'state', ARGV[12], 'at', now, 'h', ARGV[7], 'd', ARGV[8], 'm', ARGV[9], 'node', ARGV[10], 'o', ARGV[11])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
