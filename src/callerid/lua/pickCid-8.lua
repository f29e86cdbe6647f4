--[[
  Pick a caller ID from a pool: bring back the numbers whose limit window or rest ended, take the
  least recently used usable number of the best tier, count it and reserve it in every pool it
  serves, all at once. Cost: O(batch + log n), never a scan of the pool (cid-common.lua says why
  the head of a tier set is enough).

  KEYS[1] ready marker (absent: the hot state must be rebuilt first)
  KEYS[2] pool cool ZSET       KEYS[3..6] tier ZSETs: NPA-NXX, NPA, state, all (absent tiers: any unused key)
  KEYS[7] dirty SET (numbers whose usage must reach PostgreSQL)
  KEYS[8] per-agent rate counter (fixed window)
  ARGV[1] key base  ARGV[2] pool id  ARGV[3] now (ms)  ARGV[4] reservation ttl (ms)
  ARGV[5] hour bucket id  ARGV[6] hour end (ms)  ARGV[7] day bucket id  ARGV[8] day end (ms)
  ARGV[9] promote batch  ARGV[10] rate limit per window (-1 none)  ARGV[11] window end (ms)
  Returns {1, number, reservation end, tier 1..4}; {0, next usable ms or -1} exhausted;
  {-1, retry after ms} rate limited; {-2} not ready; {-3} no such pool.
]]
--@include cid-common.lua
fresh_run()

local base, pool = ARGV[1], ARGV[2]
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local hourId, hourEnd, dayId, dayEnd = ARGV[5], tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])

if redis.call('EXISTS', KEYS[1]) == 0 then return { -2 } end

local limit = tonumber(ARGV[10])
if limit >= 0 then
  -- The key names its window; its expiry is relative, so an injected clock cannot make it vanish.
  local left = math.max(1, tonumber(ARGV[11]) - now)
  local n = redis.call('INCR', KEYS[8])
  if n == 1 then redis.call('PEXPIRE', KEYS[8], left + 5000) end
  if n > limit then return { -1, left } end
end

-- Numbers whose limit window or rest ended come back (a bounded batch per pick; the daemon's sweep,
-- promoteCid-1.lua, brings back the rest within a second).
promote_due(base, pool, KEYS[2], now, hourId, hourEnd, dayId, dayEnd, tonumber(ARGV[9]))

local repairs = 0
for tier = 3, 6 do
  while true do
    local top = redis.call('ZRANGE', KEYS[tier], 0, 0, 'WITHSCORES')
    local m = top[1]
    -- An empty tier, or a reserved head: every member is reserved, try the next tier.
    if not m or tonumber(top[2]) > now then break end
    local nk = base .. ':n:' .. m
    local h = hload(nk)
    local u = h and usable_at(h, hourId, hourEnd, dayId, dayEnd) or -1
    if h and u >= 0 and u <= now and in_pool(h, pool) then
      -- Take it.
      local hc = (h.hb == hourId) and (num(h.hc, 0) + 1) or 1
      local dc = (h.db == dayId) and (num(h.dc, 0) + 1) or 1
      local resv = now + ttl
      -- Strings made once and passed on: each number given to redis.call is formatted anew, and
      -- that costs about as much as a small command (~0.5 µs; BENCHMARKS.md).
      local hcS, dcS, resvS = tostring(hc), tostring(dc), tostring(resv)
      h.hb, h.hc, h.db, h.dc, h.resv = hourId, hcS, dayId, dcS, resvS
      redis.call('HSET', nk, 'hb', hourId, 'hc', hcS, 'db', dayId, 'dc', dcS, 'last', ARGV[3], 'resv', resvS,
        'lp', pool, 'tot', num(h.tot, 0) + 1)
      -- Rescored in the tier sets of every pool it serves; when this use reached a limit, out of
      -- them and into the cool sets instead. A number of several pools may still wait in another
      -- pool's cool set (its promotion runs on that pool's picks): out of there too, so it never
      -- sits in both.
      if #pools_of(h) > 1 or held_until(h, hourId, hourEnd, dayId, dayEnd) > now then unplace(base, m, h) end
      place(base, m, h, now, hourId, hourEnd, dayId, dayEnd)
      redis.call('SADD', KEYS[7], m)
      return { 1, m, resv, tier - 2 }
    end
    -- Misplaced (limits or membership changed under it): put it where it belongs and look again.
    redis.call('ZREM', KEYS[tier], m)
    if h then
      unplace(base, m, h)
      place(base, m, h, now, hourId, hourEnd, dayId, dayEnd)
    end
    repairs = repairs + 1
    if repairs > 20 then break end
  end
end

-- Nothing to give: an unknown pool (no config) says so, a known one says when a number frees up
-- (the first reservation to end, or the first limit window or rest).
if redis.call('EXISTS', base .. ':p:' .. pool .. ':cfg') == 0 then return { -3 } end
local nxt = -1
for _, k in ipairs({ KEYS[6], KEYS[2] }) do
  local head = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  if head[2] then
    local t = tonumber(head[2])
    if nxt < 0 or t < nxt then nxt = t end
  end
end
return { 0, nxt }
