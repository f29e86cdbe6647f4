--[[
  Mark a slot answered: its cap reservations become real uses (no refund on release).
  KEYS[1] slot state (HASH)
  Returns 1 when the slot went taken -> answered, 0 otherwise (unknown, already answered or released).
]]
if redis.call('HGET', KEYS[1], 'state') ~= 'taken' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'answered')
return 1
