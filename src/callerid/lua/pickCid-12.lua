--[[
  Pick a caller ID from a pool: bring back the numbers whose limit window or rest ended, take the
  least recently used usable number of the best tier, count it and reserve it in every pool it
  serves, all at once. Cost: O(batch + log n), never a scan of the pool (cid-common.lua says why
  the head of a tier set is enough).

  KEYS[1] ready marker (absent, and the pool's own marker KEYS[12] too: the hot state must be rebuilt first)
  KEYS[2] pool cool ZSET       KEYS[3..6] tier ZSETs: NPA-NXX, NPA, state, all (absent tiers: any unused key)
  KEYS[7] dirty SET (numbers whose usage must reach PostgreSQL)
  KEYS[8] per-agent rate counter (fixed window)  KEYS[9] the pool's settings HASH (absent: no such pool)
  KEYS[10] prefix of the number hashes  KEYS[11] prefix of the pool keys
  KEYS[12] the pool's ready marker (set while the state is rebuilt, once this pool's numbers are placed)
  Keys named by data (built from KEYS[10], KEYS[11]): the hash of the number at the head of a tier
  set, the NPA-NXX, NPA and state sets of that number (its own, not the callee's) in every pool it
  serves, and the hashes and sets of the numbers due in the cool set. Which number is the head is
  known only inside the script: a caller that read it first would race every other pick for it.
  ARGV[1] pool id  ARGV[2] now (ms)  ARGV[3] reservation ttl (ms)
  ARGV[4] hour bucket id  ARGV[5] hour end (ms)  ARGV[6] day bucket id  ARGV[7] day end (ms)
  ARGV[8] promote batch  ARGV[9] rate limit per window (-1 none)  ARGV[10] window end (ms)
  Returns {1, number, reservation end, tier 1..4}; {0, next usable ms or -1} exhausted;
  {-1, retry after ms} rate limited; {-2} not ready; {-3} no such pool.
]]
--@include cid-common.lua
fresh_run()

local K, pool = cid_keys(KEYS[10], KEYS[11]), ARGV[1]
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local hourId, hourEnd, dayId, dayEnd = ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])

if redis.call('EXISTS', KEYS[1], KEYS[12]) == 0 then return { -2 } end

local limit = tonumber(ARGV[9])
if limit >= 0 then
  -- The key names its window; its expiry is relative, so an injected clock cannot make it vanish.
  local left = math.max(1, tonumber(ARGV[10]) - now)
  local n = redis.call('INCR', KEYS[8])
  if n == 1 then redis.call('PEXPIRE', KEYS[8], left + 5000) end
  if n > limit then return { -1, left } end
end

-- Numbers whose limit window or rest ended come back (a bounded batch per pick; the daemon's sweep,
-- promoteCid-3.lua, brings back the rest within a second).
promote_due(K, pool, KEYS[2], now, hourId, hourEnd, dayId, dayEnd, ARGV[8], ARGV[2])

-- Whether a number (hmget_number's fields) can be taken the plain way: it serves this pool only, is
-- active, neither reserved nor resting, and stays under both limits after this use (`hc`/`dc`, its
-- counts with it), so it stays in the same tier sets and only its scores change. That is nearly
-- every pick, and it skips the general helpers (the table of fields, the placement decisions),
-- about a sixth of a pick's Redis time (BENCHMARKS.md). Anything else goes the general way, the
-- reference: several pools, a use that reaches a limit (the number moves to the cool sets), a head
-- the sets misplace.
local function plain(v, hc, dc)
  if v[1] ~= '1' or v[7] ~= pool then return false end
  if (tonumber(v[8]) or 0) > now or (tonumber(v[9]) or 0) > now then return false end
  -- A limit of 0 holds the number back always; a positive one once this use reaches it.
  local hl, dl = tonumber(v[5]) or -1, tonumber(v[6]) or -1
  return not ((hl >= 0 and hc >= hl) or (dl >= 0 and dc >= dl))
end

-- This use on the number's hash, and the number on the list of those whose usage the flush writes.
local function record(nk, m, hcS, dcS, resvS, tot)
  redis.call('HSET', nk, 'hb', hourId, 'hc', hcS, 'db', dayId, 'dc', dcS, 'last', ARGV[2], 'resv', resvS,
    'lp', pool, 'tot', (tonumber(tot) or 0) + 1)
  redis.call('SADD', KEYS[7], m)
end

local repairs = 0
for tier = 3, 6 do
  while true do
    local top = redis.call('ZRANGE', KEYS[tier], 0, 0, 'WITHSCORES')
    local m = top[1]
    -- An empty tier, or a reserved head: every member is reserved, try the next tier.
    if not m or tonumber(top[2]) > now then break end
    local nk = number_key(K, m)
    local v = hmget_number(nk)
    -- This use's counts: the hour's and the day's (a new bucket starts at 1).
    local hc = (v[10] == hourId) and (tonumber(v[11]) or 0) + 1 or 1
    local dc = (v[12] == dayId) and (tonumber(v[13]) or 0) + 1 or 1
    local resv = now + ttl
    -- Strings made once and passed on: each number given to redis.call is formatted anew, and that
    -- costs about as much as a small command (~0.5 µs; BENCHMARKS.md).
    local hcS, dcS, resvS = tostring(hc), tostring(dc), tostring(resv)
    if plain(v, hc, dc) then
      record(nk, m, hcS, dcS, resvS, v[14])
      -- Rescored in this pool's tier sets (the names tier_keys gives: nxx, npa, st fields 3, 2, 4).
      redis.call('ZADD', KEYS[6], resvS, m) -- the pool's `all` set
      local p = K.p .. pool .. ':'
      if v[3] and v[3] ~= '' then redis.call('ZADD', p .. 'nxx:' .. v[3], resvS, m) end
      if v[2] and v[2] ~= '' then redis.call('ZADD', p .. 'npa:' .. v[2], resvS, m) end
      if v[4] and v[4] ~= '' then redis.call('ZADD', p .. 'st:' .. v[4], resvS, m) end
      return { 1, m, resv, tier - 2 }
    end
    local h = hash_of(v)
    local u = h and usable_at(h, hourId, hourEnd, dayId, dayEnd) or -1
    if h and u >= 0 and u <= now and in_pool(h, pool) then
      -- Take it.
      record(nk, m, hcS, dcS, resvS, v[14])
      h.hb, h.hc, h.db, h.dc, h.resv = hourId, hcS, dayId, dcS, resvS
      -- Rescored in the tier sets of every pool it serves; when this use reached a limit, out of
      -- them and into the cool sets instead. A number of several pools may still wait in another
      -- pool's cool set (its promotion runs on that pool's picks): out of there too, so it never
      -- sits in both.
      if #pools_of(h) > 1 or held_until(h, hourId, hourEnd, dayId, dayEnd) > now then unplace(K, m, h) end
      place(K, m, h, now, hourId, hourEnd, dayId, dayEnd)
      return { 1, m, resv, tier - 2 }
    end
    -- Misplaced (limits or membership changed under it): put it where it belongs and look again.
    redis.call('ZREM', KEYS[tier], m)
    if h then
      unplace(K, m, h)
      place(K, m, h, now, hourId, hourEnd, dayId, dayEnd)
    end
    repairs = repairs + 1
    if repairs > 20 then break end
  end
end

-- Nothing to give: an unknown pool (no config) says so, a known one says when a number frees up
-- (the first reservation to end, or the first limit window or rest).
if redis.call('EXISTS', KEYS[9]) == 0 then return { -3 } end
local nxt = -1
for _, k in ipairs({ KEYS[6], KEYS[2] }) do
  local head = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  if head[2] then
    local t = tonumber(head[2])
    if nxt < 0 or t < nxt then nxt = t end
  end
end
return { 0, nxt }
