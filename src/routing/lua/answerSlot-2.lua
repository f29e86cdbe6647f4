--[[
  Mark a slot answered: its cap reservations become real uses (no refund on release). In the same
  step the use is added to the totals waiting for PostgreSQL (KEYS[2]): the link's, and each other
  owner's the slot was counted against (the slot's `o` field). A count is never only in a process'
  memory, so a crash of the daemon loses none (totals.ts moves them to PostgreSQL).
  KEYS[1] slot state (HASH)   KEYS[2] totals waiting for PostgreSQL (HASH `<kind>:<id>` -> n)
  ARGV[1] the slot's link id  ARGV[2] the slot id, listed in the totals as `slot:<id>` -> the
  `<kind>:<id>` it was counted in, `;`-separated: PostgreSQL records which answers its totals hold,
  so those lost with Redis' data can be told apart, and one counted meanwhile is not counted twice
  Returns 1 when the slot went taken -> answered, 0 otherwise (unknown, already answered or released).
]]
if redis.call('HGET', KEYS[1], 'state') ~= 'taken' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'answered')
local counted = { 'link:' .. ARGV[1] }
redis.call('HINCRBY', KEYS[2], counted[1], 1)
-- `o` is `kind|id|hour|day|month;...` (slots.ts encodeSources).
local o = redis.call('HGET', KEYS[1], 'o')
if o then
  for kind, id in string.gmatch(o, '([^|;]+)|([^|;]+)|[^;]*') do
    counted[#counted + 1] = kind .. ':' .. id
    redis.call('HINCRBY', KEYS[2], counted[#counted], 1)
  end
end
redis.call('HSET', KEYS[2], 'slot:' .. ARGV[2], table.concat(counted, ';'))
return 1
