--[[
  Release a slot exactly once. An unanswered slot refunds its cap reservations, for every owner it
  was counted against.
  KEYS as takeSlot-n (the slot state, then 5 per owner: live, hourly, daily, monthly, total — the
  bucket keys of the hour/day/month in which the slot was taken).
  ARGV[1] slot id  ARGV[2] how long to remember the release (ms)
  ARGV[3] (optional) the hold queues' wake-up channel  ARGV[4] the link id, published there when the
  slot left the link's live set (a concurrency slot freed: a caller waiting for it is woken)
  Returns 2 released answered, 1 released and refunded, 0 already released or unknown.
]]
local state = redis.call('HGET', KEYS[1], 'state')
local owners = (#KEYS - 1) / 5
-- Whatever the state, the slot stops counting towards concurrency.
local freed = 0
for o = 0, owners - 1 do
  local n = redis.call('ZREM', KEYS[2 + 5 * o], ARGV[1])
  if o == 0 then freed = n end
end
if freed == 1 and ARGV[3] then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
if state ~= 'taken' and state ~= 'answered' then return 0 end
if state == 'taken' then
  for o = 0, owners - 1 do
    for k = 2, 5 do
      local key = KEYS[1 + 5 * o + k]
      if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
    end
  end
end
redis.call('HSET', KEYS[1], 'state', 'released')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
if state == 'answered' then return 2 end
return 1
