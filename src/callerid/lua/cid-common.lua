-- Shared by the caller-ID scripts. Key names: a script receives in KEYS every key it touches whose
-- name is known before the call, named by CidKeys (src/platform/redis/keys.ts). Some keys are named
-- by data only the script sees: the number at the head of a set, the members a script pops or finds
-- due, the pools and tiers a number's hash holds at that instant. The caller cannot name them: a read
-- before the call races every other writer (another pick takes the head, an import changes the
-- pools) and the script would then touch keys of a stale state. Each script's header says which of
-- its keys these are and why. For those, and only those, a script receives the prefixes of the
-- number hashes and of the pool keys in KEYS as a table K = { n = <number prefix>, p = <pool prefix> }
-- (cid_keys below), and names a key of a number or a pool only through K: `K.n .. number`,
-- `K.p .. pool .. ':' .. part` (number_key, pool_key), with the parts CidKeys spells (a test checks
-- that both spell the same names). All of them share the {cid} hash tag, so under Redis Cluster they
-- are in the slot of the keys passed. A number's state is the hash `K.n .. <number>`:
--   a active (1/0)  npa  nxx (NPA-NXX, 6 digits)  st (state/province)  hl/dl hourly/daily limit (-1 none)
--   pools (comma-separated pool ids)  last (ms, last pick)  resv (ms, reservation end)
--   rest (ms, health rest end)  hb/hc hour bucket id and uses in it  db/dc day bucket id and uses
--   tot total uses  lp last pool picked from  hw health window ('1' answered / '0' not, oldest first)
-- Per pool `K.p .. <pool> .. ':'`: cfg (HASH, settings), tier sets nxx:<nxx>, npa:<npa>, st:<state>, all, and cool.
--   Tier sets (ZSET number -> end of its last reservation, 0 never picked) hold the active numbers
--   that no limit or rest holds back. A pick sets the score to now + TTL, so with one TTL the order
--   of the scores is the order of last use: the head of a set is its least recently used number,
--   and it is usable exactly when its score is <= now; a reserved head means every member is
--   reserved. A reservation therefore moves nothing between sets, only rescores.
--   The cool set (ZSET number -> ms it becomes usable) holds the numbers at an hourly or daily
--   limit or resting: out of every tier set until then. A number sits in its pools' tier sets or in
--   their cool sets, never both.

local function cid_keys(numberPrefix, poolPrefix) return { n = numberPrefix, p = poolPrefix } end
local function number_key(K, number) return K.n .. number end
local function pool_key(K, pool, part) return K.p .. pool .. ':' .. part end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end

-- The fields the placement decisions read, in this order (HMGET: cheaper than HGETALL of the whole
-- hash). Not `last`: no decision reads it (a pick writes it; the flush and the stats read the hash).
local function hmget_number(key)
  return redis.call('HMGET', key, 'a', 'npa', 'nxx', 'st', 'hl', 'dl', 'pools', 'resv', 'rest', 'hb', 'hc', 'db',
    'dc', 'tot')
end

-- A number's fields as a table, from hmget_number's answer; nil when the number has no hash. A table
-- constructor, not a loop over field names: this runs once or twice in every pick.
local function hash_of(v)
  if not v[1] then -- every write sets `a` with the profile; without it, any field at all?
    local any = false
    for i = 2, 14 do
      if v[i] then
        any = true
        break
      end
    end
    if not any then return nil end
  end
  -- Redis answers a missing field with false; `or nil` keeps absent fields absent.
  return {
    a = v[1] or nil, npa = v[2] or nil, nxx = v[3] or nil, st = v[4] or nil, hl = v[5] or nil,
    dl = v[6] or nil, pools = v[7] or nil, resv = v[8] or nil, rest = v[9] or nil,
    hb = v[10] or nil, hc = v[11] or nil, db = v[12] or nil, dc = v[13] or nil, tot = v[14] or nil,
  }
end

local function hload(key) return hash_of(hmget_number(key)) end

local function split(s)
  local out = {}
  if not s or s == '' then return out end
  for p in string.gmatch(s, '[^,]+') do out[#out + 1] = p end
  return out
end

-- The pools of a loaded number, split once per script run (`_pl` is not a hash field; writes of
-- `pools` through set_and_place drop it).
local function pools_of(h)
  local p = h._pl
  if not p then
    local s = h.pools
    -- Most numbers serve one pool: no pattern matching for them.
    if s and s ~= '' and not string.find(s, ',', 1, true) then p = { s } else p = split(s) end
    h._pl = p
  end
  return p
end

local function num(v, d)
  local n = tonumber(v)
  if n == nil then return d end
  return n
end

-- Until when a limit or a health rest holds the number back (ms, 0 none); -1 when it is inactive
-- (in no set at all). Its reservation is not counted: that is the tier sets' score.
local function held_until(h, hourId, hourEnd, dayId, dayEnd)
  if h.a ~= '1' then return -1 end
  local u = num(h.rest, 0)
  local hl, dl = num(h.hl, -1), num(h.dl, -1)
  if hl == 0 or (hl > 0 and h.hb == hourId and num(h.hc, 0) >= hl) then u = math.max(u, hourEnd) end
  if dl == 0 or (dl > 0 and h.db == dayId and num(h.dc, 0) >= dl) then u = math.max(u, dayEnd) end
  return u
end

-- When the number becomes usable again, its reservation included (ms); -1 when it is inactive.
local function usable_at(h, hourId, hourEnd, dayId, dayEnd)
  local u = held_until(h, hourId, hourEnd, dayId, dayEnd)
  if u < 0 then return u end
  return math.max(u, num(h.resv, 0))
end

-- Key names of a pool, built once per script run and looked up after: creating a string is among
-- the dearest things a script does (bulk placements build the same few names thousands of times).
local pool_key_cache = {}
local function pool_keys(K, pool)
  local c = pool_key_cache[pool]
  if not c then
    local p = K.p .. pool .. ':'
    c = { prefix = p, all = p .. 'all', cool = p .. 'cool', nxx = {}, npa = {}, st = {} }
    pool_key_cache[pool] = c
  end
  return c
end

local TIER_FIELDS = { 'nxx', 'npa', 'st' } -- hash field = key part: <pool>:nxx:<nxx>, :npa:<npa>, :st:<st>
local function tier_keys(K, pool, h)
  local memo = h._tk -- not a hash field either: dropped when a tier field changes
  if not memo then
    memo = {}
    h._tk = memo
  end
  local keys = memo[pool]
  if keys then return keys end
  local c = pool_keys(K, pool)
  keys = { c.all }
  for _, f in ipairs(TIER_FIELDS) do
    local v = h[f]
    if v and v ~= '' then
      local k = c[f][v]
      if not k then
        k = c.prefix .. f .. ':' .. v
        c[f][v] = k
      end
      keys[#keys + 1] = k
    end
  end
  memo[pool] = keys
  return keys
end

-- Sorted-set writes go through zrem/zadd. Unbuffered (the default) they are issued at once; a bulk
-- script calls zbuffer() first and zflush() at the end, so each set gets one ZREM and one ZADD for
-- the whole batch instead of one per number: the Lua-to-Redis call, not the set operation, is what
-- costs (about two thirds of a placement was spent crossing it).
local zbuf = nil
local function zbuffer() zbuf = {} end
local function zset(key, member, score)
  local k = zbuf[key]
  if not k then
    k = {}
    zbuf[key] = k
  end
  k[member] = score -- false: removed; a number: present with that score (the last write wins)
end
local function zrem(key, member)
  if zbuf then zset(key, member, false) else redis.call('ZREM', key, member) end
end
local function zadd(key, score, member)
  if zbuf then zset(key, member, score) else redis.call('ZADD', key, score, member) end
end
local ZCHUNK = 4000 -- well under Lua's C stack limit for unpack()
local function zflush()
  for key, members in pairs(zbuf) do
    local rem, add = {}, {}
    for m, score in pairs(members) do
      if score == false then
        rem[#rem + 1] = m
      else
        add[#add + 1] = score
        add[#add + 1] = m
      end
    end
    for i = 1, #rem, ZCHUNK do redis.call('ZREM', key, unpack(rem, i, math.min(i + ZCHUNK - 1, #rem))) end
    for i = 1, #add, ZCHUNK do redis.call('ZADD', key, unpack(add, i, math.min(i + ZCHUNK - 1, #add))) end
  end
  zbuf = nil
end

-- Per-run state back to empty. An EVALSHA script starts fresh anyway, but a Redis Function library
-- keeps its top-level locals between calls: key names cached here depend on the key prefixes a call
-- passes, and a bulk run's buffer must not outlive it. Every script that runs as a function calls
-- this first.
local function fresh_run()
  pool_key_cache = {}
  zbuf = nil
end

local function unplace(K, number, h)
  for _, pool in ipairs(pools_of(h)) do
    for _, k in ipairs(tier_keys(K, pool, h)) do zrem(k, number) end
    zrem(pool_keys(K, pool).cool, number)
  end
end

-- Puts the number where it belongs in every pool it serves: tier sets (scored by its reservation's
-- end) unless a limit or rest holds it back at `now`, else the cool set scored by when it becomes
-- usable. Returns when it is usable, its reservation included (-1 inactive).
local function place(K, number, h, now, hourId, hourEnd, dayId, dayEnd)
  local held = held_until(h, hourId, hourEnd, dayId, dayEnd)
  if held < 0 then return held end
  local resv = num(h.resv, 0)
  -- The tier sets' score as the string the hash holds: a number would be formatted anew for each set.
  local score = resv ~= 0 and h.resv or '0'
  for _, pool in ipairs(pools_of(h)) do
    if held > now then
      zadd(pool_keys(K, pool).cool, math.max(held, resv), number)
    else
      for _, k in ipairs(tier_keys(K, pool, h)) do zadd(k, score, number) end
    end
  end
  return math.max(held, resv)
end

local function in_pool(h, pool)
  for _, p in ipairs(pools_of(h)) do
    if p == pool then return true end
  end
  return false
end

-- Adds comma-separated pool ids to a number's pool list (kept sorted, as PostgreSQL's rebuild writes it).
local function merge_pools(cur, add)
  local seen, out = {}, {}
  for _, list in ipairs({ split(cur), split(add) }) do
    for _, p in ipairs(list) do
      if not seen[p] then
        seen[p] = true
        out[#out + 1] = p
      end
    end
  end
  table.sort(out)
  return table.concat(out, ',')
end

-- Sets fields of one number (`pairs`: field, value, ...; '' deletes the field) and places it in every
-- pool it serves before and after the change. Returns when it is usable (ms), -1 when inactive.
-- The field `pools+` adds to the number's pools instead of replacing them (imports add memberships).
-- `key`: the number's hash, as the caller passed it in KEYS.
local function set_and_place(K, key, number, pairs, now, hourId, hourEnd, dayId, dayEnd)
  -- EXISTS first: a new number (most of an import) has nothing to load or take out of sets.
  local h = redis.call('EXISTS', key) == 1 and hload(key) or nil
  if h then unplace(K, number, h) else h = {} end
  local set, del = {}, {}
  for i = 1, #pairs, 2 do
    local f, v = pairs[i], pairs[i + 1]
    if f == 'pools+' then f, v = 'pools', merge_pools(h.pools, v) end
    if v == '' then
      del[#del + 1] = f
      h[f] = nil
    else
      set[#set + 1] = f
      set[#set + 1] = v
      h[f] = v
    end
  end
  h._pl, h._tk = nil, nil -- pools or tier fields may have changed
  if #set > 0 then redis.call('HSET', key, unpack(set)) end
  if #del > 0 then redis.call('HDEL', key, unpack(del)) end
  return place(K, number, h, now, hourId, hourEnd, dayId, dayEnd)
end

-- Brings back into the tier sets up to `limit` numbers of the pool's cool set whose limit window or
-- rest has ended at `now` (a number still held is rescored by when it is usable; one gone from the
-- pool, or inactive, leaves the set). Returns how many due members it looked at.
local function promote_due(K, pool, cool, now, hourId, hourEnd, dayId, dayEnd, limit, nowS)
  -- `nowS`: `now` as the caller got it, a string (a number would be formatted anew for the call).
  local due = redis.call('ZRANGEBYSCORE', cool, '-inf', nowS or now, 'LIMIT', 0, limit)
  for _, m in ipairs(due) do
    local h = hload(number_key(K, m))
    if not h or not in_pool(h, pool) then
      redis.call('ZREM', cool, m)
    else
      local held = held_until(h, hourId, hourEnd, dayId, dayEnd)
      if held < 0 then
        redis.call('ZREM', cool, m)
      elseif held > now then
        redis.call('ZADD', cool, usable_at(h, hourId, hourEnd, dayId, dayEnd), m)
      else
        redis.call('ZREM', cool, m)
        local score = num(h.resv, 0) ~= 0 and h.resv or '0'
        for _, k in ipairs(tier_keys(K, pool, h)) do redis.call('ZADD', k, score, m) end
      end
    end
  end
  return #due
end
