--[[
  Mark a slot answered: its cap reservations become real uses (no refund on release). In the same
  step the use is added to the totals waiting for PostgreSQL (KEYS[2]): the link's, and each other
  owner's the slot was counted against (the slot's `o` field). A count is never only in a process'
  memory, so a crash of the daemon loses none (totals.ts moves them to PostgreSQL).
  KEYS[1] slot state (HASH)   KEYS[2] totals waiting for PostgreSQL (HASH `<kind>:<id>` -> n)
  ARGV[1] the slot's link id
  Returns 1 when the slot went taken -> answered, 0 otherwise (unknown, already answered or released).
]]
if redis.call('HGET', KEYS[1], 'state') ~= 'taken' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'answered')
redis.call('HINCRBY', KEYS[2], 'link:' .. ARGV[1], 1)
-- `o` is `kind|id|hour|day|month;...` (slots.ts encodeSources).
local o = redis.call('HGET', KEYS[1], 'o')
if o then
  for kind, id in string.gmatch(o, '([^|;]+)|([^|;]+)|[^;]*') do
    redis.call('HINCRBY', KEYS[2], kind .. ':' .. id, 1)
  end
end
return 1
