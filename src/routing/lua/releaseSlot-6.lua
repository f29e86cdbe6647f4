--[[
  Release a slot exactly once. An unanswered slot refunds its cap reservations.
  KEYS as takeSlot-6 (live, hourly, daily, monthly, total, slot state) — the bucket keys of the
  hour/day/month in which the slot was taken.
  ARGV[1] slot id  ARGV[2] how long to remember the release (ms)
  Returns 2 released answered, 1 released and refunded, 0 already released or unknown.
]]
local state = redis.call('HGET', KEYS[6], 'state')
-- Whatever the state, the slot stops counting towards concurrency.
redis.call('ZREM', KEYS[1], ARGV[1])
if state ~= 'taken' and state ~= 'answered' then return 0 end
if state == 'taken' then
  for i = 2, 5 do
    if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
  end
end
redis.call('HSET', KEYS[6], 'state', 'released')
redis.call('PEXPIRE', KEYS[6], tonumber(ARGV[2]))
if state == 'answered' then return 2 end
return 1
