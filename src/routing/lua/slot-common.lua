-- Shared by the slot scripts that count a slot (takeSlot-n, restoreSlot-n). Their KEYS hold, after
-- the slot state, five keys per cap owner o at b = 1 + 5*o: live slots (ZSET slot id -> expiry ms),
-- hourly, daily and monthly counters, total counter; ARGV[4..6] are the hour, day and month keys'
-- ttls (s).

-- Counts slot `slot` under each of the `owners`: live until now + ttl (ms), one use of its hour, day
-- and month; of the total too when `total` is 'always', else only when that counter exists already.
local function count_slot(owners, slot, now, ttl, total)
  for o = 0, owners - 1 do
    local b = 1 + 5 * o
    redis.call('ZADD', KEYS[b + 1], now + ttl, slot)
    redis.call('PEXPIRE', KEYS[b + 1], ttl)
    for k = 2, 4 do
      redis.call('INCR', KEYS[b + k])
      redis.call('EXPIRE', KEYS[b + k], tonumber(ARGV[k + 2]))
    end
    if total == 'always' or redis.call('EXISTS', KEYS[b + 5]) == 1 then redis.call('INCR', KEYS[b + 5]) end
  end
end
