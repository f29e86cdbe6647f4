--[[
  Take a routing slot for one call attempt, atomically checking every cap it counts against: its
  link's, and those of each other cap owner given (the call's seller, its DID, the client's buyer
  group). One script call per slot, however many owners, so no combination of caps overshoots under
  simultaneous arrivals. Concurrency counts live slots; hourly/daily/monthly/total count answered
  calls, reserved here and refunded by releaseSlot if the client does not answer.

  A link's hold queue comes first: while callers wait for the link (its `waiting` set, call ids by
  the time they joined), only the one that waited longest may take a slot there; anyone else, a
  newly arriving call included, is refused (and joins the line). The look at the head and the take
  are one step, so no call, on any instance, slips into a slot freed for a waiter.

  KEYS (variable count, 2 + 5 per owner, + 1 with a hold queue; the link is always owner 0):
  KEYS[1] slot state (HASH)
  then per owner o = 0..n-1, at b = 1 + 5*o:
    KEYS[b+1] live slots (ZSET slotId -> expiry ms)   KEYS[b+2] hourly counter   KEYS[b+3] daily counter
    KEYS[b+4] monthly counter                          KEYS[b+5] total counter
  KEYS[#KEYS-1] (only when the count is 3 + 5n) the link's waiting callers (ZSET call id -> joined ms)
  KEYS[#KEYS] the routing keys' epoch marker: absent, Redis lost its data (FLUSHALL, a restart
  without persistence) and no slot is taken until the daemon has put back those of its live calls
  ARGV[1] now (ms)  ARGV[2] slot ttl (ms)  ARGV[3] slot id
  ARGV[4] hour key ttl (s)  ARGV[5] day key ttl (s)  ARGV[6] month key ttl (s)
  ARGV[7..9] the link's hour, day, month bucket ids (kept on the slot so a reconcile can release it)
  ARGV[10] the Asterisk node the call is on (a reconcile only judges its own node's slots)
  ARGV[11] the other owners and their buckets, as the caller spells them (kept on the slot: `o`)
  then per owner o, at a = 11 + 6*o:
    ARGV[a+1..a+5] concurrency, hourly, daily, monthly, total caps (-1 = none)
    ARGV[a+6] answered total from PostgreSQL, seeding the total counter only when Redis has none
    (-1 = do not seed)
  with a hold queue, after the owners': ARGV[b] the call's id, ARGV[b+1] the joined time before
    which an entry is stale (an instance died with the call; dropped here), b = 12 + 6*n
  Returns 1 taken; 0 already taken (same slot id); -100 Redis lost its data; -200 another call waits
  for this link and was there first; negative = the cap that refused:
  -(10*o + k), o the owner, k 1 concurrency, 2 hourly, 3 daily, 4 monthly, 5 total
  (so the link's own caps answer -1..-5).
]]
if redis.call('EXISTS', KEYS[#KEYS]) == 0 then return -100 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = tonumber(ARGV[1])
local owners = math.floor((#KEYS - 2) / 5)
if (#KEYS - 2) % 5 == 1 then
  local a = 12 + 6 * owners
  local waiting = KEYS[#KEYS - 1]
  redis.call('ZREMRANGEBYSCORE', waiting, '-inf', '(' .. ARGV[a + 1])
  local head = redis.call('ZRANGE', waiting, 0, 0)[1]
  if head and head ~= ARGV[a] then return -200 end
end
for o = 0, owners - 1 do
  local b = 1 + 5 * o
  local a = 11 + 6 * o
  local seed = tonumber(ARGV[a + 6])
  if seed >= 0 then redis.call('SET', KEYS[b + 5], seed, 'NX') end
  -- Slots whose expiry passed were leaked by a crash: they stop counting.
  redis.call('ZREMRANGEBYSCORE', KEYS[b + 1], '-inf', now)
  local conc = tonumber(ARGV[a + 1])
  if conc >= 0 and redis.call('ZCARD', KEYS[b + 1]) >= conc then return -(10 * o + 1) end
  for k = 2, 5 do
    local cap = tonumber(ARGV[a + k])
    if cap >= 0 and tonumber(redis.call('GET', KEYS[b + k]) or '0') >= cap then return -(10 * o + k) end
  end
end
local ttl = tonumber(ARGV[2])
for o = 0, owners - 1 do
  local b = 1 + 5 * o
  redis.call('ZADD', KEYS[b + 1], now + ttl, ARGV[3])
  redis.call('PEXPIRE', KEYS[b + 1], ttl)
  for k = 2, 4 do
    redis.call('INCR', KEYS[b + k])
    redis.call('EXPIRE', KEYS[b + k], tonumber(ARGV[k + 2]))
  end
  redis.call('INCR', KEYS[b + 5])
end
-- The head of the line is served: the next in line is first from now on.
if (#KEYS - 2) % 5 == 1 then redis.call('ZREM', KEYS[#KEYS - 1], ARGV[12 + 6 * owners]) end
redis.call('HSET', KEYS[1], 'state', 'taken', 'at', now, 'h', ARGV[7], 'd', ARGV[8], 'm', ARGV[9], 'node', ARGV[10], 'o', ARGV[11])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
