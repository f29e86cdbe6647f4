--[[
  Take a routing slot for one call attempt, atomically checking every cap it counts against: its
  link's, and those of each other cap owner given (the call's seller, its DID, the client's buyer
  group). One script call per slot, however many owners, so no combination of caps overshoots under
  simultaneous arrivals. Concurrency counts live slots; hourly/daily/monthly/total count answered
  calls, reserved here and refunded by releaseSlot if the client does not answer.

  A link's hold queue comes first: while callers wait for the link (its `waiting` set, call ids by
  the time they joined), a call may take a slot there only if every caller ahead of it in line is
  held back by a cap of its own (its seller's, DID's or buyer group's) that is still full; anyone
  else, a newly arriving call included, is refused (and joins the line). So a waiter that could take
  the slot always gets it before anyone who came later, and one that cannot (for a reason that is
  its own) blocks nobody. The look at the line and the take are one step, so no call, on any
  instance, slips into a slot freed for a waiter. What holds a waiter back is marked here, when its
  own cap refuses it (the link's `held` hash: call id -> `<cap kind>|<cap>|<turn>|<key>`), and judged
  afresh at every take: a mark whose cap has room again no longer holds (the waiter is served at its
  next turn). The cap judged is the mark's, unless the taking call counts in the same key: then its
  own, which is the one in force now when the cap changed since the mark was made. A mark made
  before the last round of turns (the hold queues' `turns` counter, raised by a plan change and by a
  new hour, when every waiter on every instance gets a turn) no longer holds: what it kept (a cap, an
  hour's counter) may be out of date, so the waiter blocks those behind it until its own turn of that
  round marks it again or serves it, on whichever instance it waits. Such a mark is dropped when
  found, and the link's line woken once (its waiter's turn may have come before the round began).

  An owner with a concurrency cap (a seller, DID, group: owner o >= 1) keeps a line too, beside its
  live set (`<owner>:waiting` by join time, `:until` stale times, `:held` marks): the waiters its
  concurrency refused, whichever link. Once the owner's caps have room, its slot goes only to a call
  all of whose predecessors in that line are held back by another cap still full; otherwise the
  call is refused by the owner's concurrency, as if full (a waiter refused so joins the owner's line
  at its link-line time). Any call under the owner is judged so, with or without a hold queue. A
  waiter refused by any other cap (or by its link's line: then its link's concurrency) is marked held
  back by it in the lines of the owners it was taken under. The marks and the owners' lines name
  keys read here without being in KEYS: every routing key carries the one hash tag {routing}, so they
  sit in the same cluster slot.

  KEYS (variable count, 2 + 5 per owner, + 2 with a hold queue; the link is always owner 0):
  KEYS[1] slot state (HASH)
  then per owner o = 0..n-1, at b = 1 + 5*o:
    KEYS[b+1] live slots (ZSET slotId -> expiry ms)   KEYS[b+2] hourly counter   KEYS[b+3] daily counter
    KEYS[b+4] monthly counter                          KEYS[b+5] total counter
  KEYS[#KEYS-2], KEYS[#KEYS-1] (only when the count is 4 + 5n) the link's waiting callers (ZSET call
    id -> joined ms) and what holds each back (HASH call id -> mark)
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
    which an entry is stale (an instance died with the call; dropped here), ARGV[b+2] the hold
    queues' wake-up channel, ARGV[b+3] the link's wake-up (published when a waiter is newly held
    back: those behind it may take the slot now), b = 12 + 6*n
  The hold queues' round of turns is read from `queue-turns` beside the epoch marker (not in KEYS:
  it carries the {routing} tag too).
  Returns 1 taken; 0 already taken (same slot id); -100 Redis lost its data; -200 another call waits
  for this link, was there first and is not held back by a cap of its own; negative = the cap that refused:
  -(10*o + k), o the owner, k 1 concurrency, 2 hourly, 3 daily, 4 monthly, 5 total
  (so the link's own caps answer -1..-5).
]]
--@include slot-common.lua
if redis.call('EXISTS', KEYS[#KEYS]) == 0 then return -100 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = tonumber(ARGV[1])
local owners = math.floor((#KEYS - 2) / 5)
local queued = (#KEYS - 2) % 5 == 2
local q = 12 + 6 * owners
local line, held, me, inLine, myScore
if queued then line, held, me = KEYS[#KEYS - 2], KEYS[#KEYS - 1], ARGV[q] end
-- The current round of turns (marks of an earlier one no longer hold).
local turn = redis.call('GET', string.sub(KEYS[#KEYS], 1, -6) .. 'queue-turns') or '0'
-- The caps this call is taken under, by key: where a mark names a key this call counts in, its own
-- plan's cap is the one in force now (a cap raised since the mark lets the waiter take).
local now_cap = {}
for o = 0, owners - 1 do
  for k = 1, 5 do now_cap[KEYS[1 + 5 * o + k]] = tonumber(ARGV[11 + 6 * o + k]) end
end
-- Whether a mark (`<cap kind>|<cap>|<turn>|<key>`) of the current round still holds its waiter
-- back: that cap is still full.
local function holds(mark)
  if not mark then return false end
  local k, cap, made, key = string.match(mark, '^(%d)|(%d+)|(%d+)|(.+)$')
  if made ~= turn then return false end
  local c = now_cap[key] or tonumber(cap)
  -- That cap was removed: nothing of its own holds the waiter back.
  if c < 0 then return false end
  local used
  if k == '1' then used = redis.call('ZCOUNT', key, '(' .. now, '+inf')
  else used = tonumber(redis.call('GET', key) or '0') end
  return used >= c
end
-- `holds` for waiter `w` of the line whose marks are `hash`; a mark of an earlier round is dropped
-- (the waiter blocks unmarked until its turn marks it again), and with `wake` the line is woken.
local function judged(hash, w, wake)
  local mark = redis.call('HGET', hash, w)
  if mark and string.match(mark, '^%d|%d+|(%d+)|') ~= turn then
    redis.call('HDEL', hash, w)
    if wake then redis.call('PUBLISH', ARGV[q + 2], ARGV[q + 3]) end
    return false
  end
  return holds(mark)
end
-- An owner's line (seller, DID, group) is kept where its concurrency is capped: the waiters that
-- cap refused, whichever link they wait for. Its keys sit beside the owner's live set.
local function ownerKey(o, part)
  return string.sub(KEYS[2 + 5 * o], 1, -5) .. part
end
local function lined(o)
  return o > 0 and tonumber(ARGV[12 + 6 * o]) >= 0
end
-- The owners as the wake-up names them (`kind:id`), from the slot's `o` field (ARGV[11]).
local names = {}
for kind, id in string.gmatch(ARGV[11], '([^|;]+)|([^|;]+)|[^;]*') do names[#names + 1] = kind .. ':' .. id end
-- What a waiter's refusal means in the lines of the owners it is taken under: refused by an
-- owner's concurrency, it waits for that owner (joins its line, unmarked); refused by any other cap,
-- it is marked held back by that cap there, so it keeps the owner's slots from nobody meanwhile (a
-- new mark wakes the waiters of the owner, whose next may take its slot now).
local function inOwnerLines(o, k, mark)
  for p = 1, owners - 1 do
    if lined(p) then
      local ol, oh, ou = ownerKey(p, 'waiting'), ownerKey(p, 'held'), ownerKey(p, 'until')
      if p == o and k == 1 then
        -- Its place is its place in the link's line: the time it joined the hold queue.
        local untilMs = myScore + now - tonumber(ARGV[q + 1])
        redis.call('ZADD', ol, 'NX', myScore, me)
        redis.call('ZADD', ou, 'NX', untilMs, me)
        redis.call('HDEL', oh, me)
        for _, x in ipairs({ ol, ou, oh }) do
          if redis.call('PTTL', x) < untilMs - now then redis.call('PEXPIRE', x, untilMs - now) end
        end
      elseif redis.call('ZSCORE', ol, me) and redis.call('HGET', oh, me) ~= mark then
        redis.call('HSET', oh, me, mark)
        redis.call('PEXPIRE', oh, math.max(redis.call('PTTL', ol), 1))
        redis.call('PUBLISH', ARGV[q + 2], ARGV[q + 3] .. '|' .. names[p])
      end
    end
  end
end
if queued then
  local stale = redis.call('ZRANGEBYSCORE', line, '-inf', '(' .. ARGV[q + 1])
  for _, w in ipairs(stale) do
    redis.call('ZREM', line, w)
    redis.call('HDEL', held, w)
  end
  local rank = redis.call('ZRANK', line, me)
  inLine = rank ~= false and rank ~= nil
  local ahead = {}
  if not inLine then ahead = redis.call('ZRANGE', line, 0, -1)
  else
    myScore = tonumber(redis.call('ZSCORE', line, me))
    if rank > 0 then ahead = redis.call('ZRANGE', line, 0, rank - 1) end
  end
  -- A waiter ahead that no cap of its own holds back may take the slot, and it was there first.
  for _, w in ipairs(ahead) do
    if not judged(held, w, true) then
      -- Held back by the line of its link, whose own cap it waits for: in its owners' lines it is
      -- held back by that cap (a full link keeps their slots from nobody).
      if inLine and tonumber(ARGV[12]) >= 0 then inOwnerLines(0, 1, '1|' .. ARGV[12] .. '|' .. turn .. '|' .. KEYS[2]) end
      return -200
    end
  end
end
-- A waiter refused by a cap of its own (not the link's) is marked held back by it in the link's
-- line; a new mark wakes the line, whose next caller may take the slot now.
local function refuse(o, k, cap, key)
  if inLine then
    local mark = k .. '|' .. cap .. '|' .. turn .. '|' .. key
    if o > 0 and redis.call('HGET', held, me) ~= mark then
      redis.call('HSET', held, me, mark)
      local ttl = redis.call('PTTL', line)
      if ttl > 0 then redis.call('PEXPIRE', held, ttl) end
      redis.call('PUBLISH', ARGV[q + 2], ARGV[q + 3])
    end
    inOwnerLines(o, k, mark)
  end
  return -(10 * o + k)
end
for o = 0, owners - 1 do
  local b = 1 + 5 * o
  local a = 11 + 6 * o
  local seed = tonumber(ARGV[a + 6])
  if seed >= 0 then redis.call('SET', KEYS[b + 5], seed, 'NX') end
  -- Slots whose expiry passed were leaked by a crash: they stop counting.
  redis.call('ZREMRANGEBYSCORE', KEYS[b + 1], '-inf', now)
  local conc = tonumber(ARGV[a + 1])
  if conc >= 0 and redis.call('ZCARD', KEYS[b + 1]) >= conc then return refuse(o, 1, conc, KEYS[b + 1]) end
  for k = 2, 5 do
    local cap = tonumber(ARGV[a + k])
    if cap >= 0 and tonumber(redis.call('GET', KEYS[b + k]) or '0') >= cap then
      return refuse(o, k, cap, KEYS[b + k])
    end
  end
  -- The owner's concurrency has room: it goes to the waiter its cap refused first, whichever link
  -- it waits for, unless something else holds that waiter back (entries past their wait are gone).
  if lined(o) then
    local ol, oh, ou = ownerKey(o, 'waiting'), ownerKey(o, 'held'), ownerKey(o, 'until')
    for _, w in ipairs(redis.call('ZRANGEBYSCORE', ou, '-inf', '(' .. now)) do
      redis.call('ZREM', ol, w)
      redis.call('ZREM', ou, w)
      redis.call('HDEL', oh, w)
    end
    local ahead
    local rank = queued and redis.call('ZRANK', ol, me)
    if rank == false or rank == nil then ahead = redis.call('ZRANGE', ol, 0, -1)
    elseif rank > 0 then ahead = redis.call('ZRANGE', ol, 0, rank - 1)
    else ahead = {} end
    for _, w in ipairs(ahead) do
      if not judged(oh, w, false) then return refuse(o, 1, conc, KEYS[b + 1]) end
    end
  end
end
local ttl = tonumber(ARGV[2])
count_slot(owners, ARGV[3], now, ttl, 'always')
-- The served caller leaves the link's line, and the lines of the owners it was taken under.
if queued then
  redis.call('ZREM', line, me)
  redis.call('HDEL', held, me)
  for o = 1, owners - 1 do
    if lined(o) then
      redis.call('ZREM', ownerKey(o, 'waiting'), me)
      redis.call('ZREM', ownerKey(o, 'until'), me)
      redis.call('HDEL', ownerKey(o, 'held'), me)
    end
  end
end
redis.call('HSET', KEYS[1], 'state', 'taken', 'at', now, 'h', ARGV[7], 'd', ARGV[8], 'm', ARGV[9], 'node', ARGV[10], 'o', ARGV[11])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
