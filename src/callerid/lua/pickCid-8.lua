--[[
  Pick a caller ID from a pool: promote due numbers from cooling, take the least recently used
  number of the best non-empty tier, count it, reserve it and move it to cooling in every pool it
  serves, all at once. Cost: O(batch + log n), never a scan of the pool.

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

-- Numbers whose reservation, limit window or rest ended come back (a bounded batch per pick).
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[9]))
for _, m in ipairs(due) do
  local h = hload(base .. ':n:' .. m)
  if not h or not in_pool(h, pool) then
    redis.call('ZREM', KEYS[2], m)
  else
    local u = usable_at(h, hourId, hourEnd, dayId, dayEnd)
    if u < 0 then
      redis.call('ZREM', KEYS[2], m)
    elseif u > now then
      redis.call('ZADD', KEYS[2], u, m)
    else
      redis.call('ZREM', KEYS[2], m)
      for _, k in ipairs(tier_keys(base, pool, h)) do redis.call('ZADD', k, num(h.last, 0), m) end
    end
  end
end

local repairs = 0
for tier = 3, 6 do
  while true do
    local top = redis.call('ZRANGE', KEYS[tier], 0, 0)
    local m = top[1]
    if not m then break end
    local nk = base .. ':n:' .. m
    local h = hload(nk)
    local u = h and usable_at(h, hourId, hourEnd, dayId, dayEnd) or -1
    if h and u >= 0 and u <= now and in_pool(h, pool) then
      -- Take it.
      local hc = (h.hb == hourId) and (num(h.hc, 0) + 1) or 1
      local dc = (h.db == dayId) and (num(h.dc, 0) + 1) or 1
      local resv = now + ttl
      h.hb, h.hc, h.db, h.dc, h.last, h.resv = hourId, tostring(hc), dayId, tostring(dc), tostring(now), tostring(resv)
      redis.call('HSET', nk, 'hb', hourId, 'hc', hc, 'db', dayId, 'dc', dc, 'last', now, 'resv', resv, 'lp', pool,
        'tot', num(h.tot, 0) + 1)
      -- Out of the tier sets of every pool it serves and into their cool sets (it is reserved, so
      -- place() cools it: no need to take it out of cool sets first, ZADD there sets the score).
      for _, p in ipairs(pools_of(h)) do
        for _, k in ipairs(tier_keys(base, p, h)) do redis.call('ZREM', k, m) end
      end
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

-- Nothing to give: an unknown pool (no config) says so, a known one says when a number frees up.
if redis.call('EXISTS', base .. ':p:' .. pool .. ':cfg') == 0 then return { -3 } end
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if nxt[2] then return { 0, tonumber(nxt[2]) } end
return { 0, -1 }
