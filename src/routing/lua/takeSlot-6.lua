--[[
  Take a routing slot on one campaign link, atomically checking every cap.
  Concurrency counts live slots; hourly/daily/monthly/total count answered calls, reserved here
  and refunded by releaseSlot if the client does not answer, so simultaneous arrivals can never
  overshoot a cap.

  KEYS[1] live slots (ZSET slotId -> expiry ms)     KEYS[4] monthly counter
  KEYS[2] hourly counter                            KEYS[5] total counter
  KEYS[3] daily counter                             KEYS[6] slot state (HASH)
  ARGV[1] now (ms)  ARGV[2] slot ttl (ms)  ARGV[3] slot id
  ARGV[4..8] concurrency, hourly, daily, monthly, total caps (-1 = none)
  ARGV[9] bucket ttl for the hour key (s)  ARGV[10] day key ttl (s)  ARGV[11] month key ttl (s)
  ARGV[12..14] hour, day, month bucket ids (kept on the slot so a reconcile can release it)
  ARGV[15] the Asterisk node the call is on (a reconcile only judges its own node's slots)
  ARGV[16] answered total from PostgreSQL, seeding KEYS[5] only when Redis has none (-1 = do not seed)
  Returns 1 taken; 0 already taken (same slot id); negative = the cap that refused:
  -1 concurrency, -2 hourly, -3 daily, -4 monthly, -5 total.
]]
local now = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[6]) == 1 then return 0 end
local seed = tonumber(ARGV[16] or '-1')
if seed >= 0 then redis.call('SET', KEYS[5], seed, 'NX') end
-- Slots whose expiry passed were leaked by a crash: they stop counting.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local conc = tonumber(ARGV[4])
if conc >= 0 and redis.call('ZCARD', KEYS[1]) >= conc then return -1 end
for i = 2, 5 do
  local cap = tonumber(ARGV[i + 3])
  if cap >= 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= cap then return -i end
end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
for i = 2, 4 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[i + 7]))
end
redis.call('INCR', KEYS[5])
redis.call('HSET', KEYS[6], 'state', 'taken', 'at', now, 'h', ARGV[12], 'd', ARGV[13], 'm', ARGV[14], 'node', ARGV[15])
redis.call('PEXPIRE', KEYS[6], ttl)
return 1
