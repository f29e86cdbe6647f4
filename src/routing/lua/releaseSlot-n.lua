--[[
  Release a slot exactly once. An unanswered slot refunds its cap reservations, for every owner it
  was counted against.
  KEYS as takeSlot-n (the slot state, then 5 per owner: live, hourly, daily, monthly, total — the
  bucket keys of the hour/day/month in which the slot was taken).
  ARGV[1] slot id  ARGV[2] how long to remember the release (ms)
  Returns 2 released answered, 1 released and refunded, 0 already released or unknown.
]]
local state = redis.call('HGET', KEYS[1], 'state')
local owners = (#KEYS - 1) / 5
-- Whatever the state, the slot stops counting towards concurrency.
for o = 0, owners - 1 do redis.call('ZREM', KEYS[2 + 5 * o], ARGV[1]) end
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
