--[[
  Take over a call whose owner died: the record's owner becomes us, once, whoever else tries at the
  same moment (two instances reconciling the same node). An owner is dead when its heartbeat in
  KEYS[2] is older than ARGV[3] (or absent).
  KEYS[1] the call's record (HASH, field `own`)   KEYS[2] instances' heartbeats (ZSET token -> ms)
  ARGV[1] our token  ARGV[2] now (ms)  ARGV[3] how old a heartbeat may be before its owner is dead (ms)
  Returns {1, last beat of the previous owner or -1} taken over (or already ours),
  {0, last beat} the owner is alive, {-1, -1} no such record.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, -1} end
local owner = redis.call('HGET', KEYS[1], 'own')
if owner == ARGV[1] then return {1, -1} end
local beat = -1
if owner then beat = tonumber(redis.call('ZSCORE', KEYS[2], owner) or '-1') end
if beat >= 0 and tonumber(ARGV[2]) - beat < tonumber(ARGV[3]) then return {0, beat} end
redis.call('HSET', KEYS[1], 'own', ARGV[1])
-- The new owner is alive now (so the next claimer sees a living owner, not another dead one).
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return {1, beat}
