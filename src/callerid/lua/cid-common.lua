-- Shared by the caller-ID scripts. A number's state is the hash `<base>:n:<number>`:
--   a active (1/0)  npa  nxx (NPA-NXX, 6 digits)  st (state/province)  hl/dl hourly/daily limit (-1 none)
--   pools (comma-separated pool ids)  last (ms, last pick)  resv (ms, reservation end)
--   rest (ms, health rest end)  hb/hc hour bucket id and uses in it  db/dc day bucket id and uses
--   tot total uses  lp last pool picked from  hw health window ('1' answered / '0' not, oldest first)
-- Per pool `<base>:p:<pool>:`: tier sets nxx:<nxx>, npa:<npa>, st:<state>, all (ZSET number -> last
-- pick ms: the lowest is the least recently used) and cool (ZSET number -> ms it becomes usable).
-- A number sits either in its pools' tier sets (usable now) or in their cool sets, never both.

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end

-- The fields the placement decisions read (HMGET: cheaper than HGETALL of the whole hash).
local FIELDS = { 'a', 'npa', 'nxx', 'st', 'hl', 'dl', 'pools', 'last', 'resv', 'rest', 'hb', 'hc', 'db', 'dc', 'tot' }
local function hload(key)
  local v = redis.call('HMGET', key, unpack(FIELDS))
  local h, any = {}, false
  for i, f in ipairs(FIELDS) do
    if v[i] then
      h[f] = v[i]
      any = true
    end
  end
  if not any then return nil end
  return h
end

local function split(s)
  local out = {}
  if not s or s == '' then return out end
  for p in string.gmatch(s, '[^,]+') do out[#out + 1] = p end
  return out
end

local function num(v, d)
  local n = tonumber(v)
  if n == nil then return d end
  return n
end

-- When the number becomes usable again (ms); -1 when it is inactive (in no set at all).
local function usable_at(h, hourId, hourEnd, dayId, dayEnd)
  if h.a ~= '1' then return -1 end
  local u = math.max(num(h.resv, 0), num(h.rest, 0))
  local hl, dl = num(h.hl, -1), num(h.dl, -1)
  if hl >= 0 and h.hb == hourId and num(h.hc, 0) >= hl then u = math.max(u, hourEnd) end
  if dl >= 0 and h.db == dayId and num(h.dc, 0) >= dl then u = math.max(u, dayEnd) end
  if hl == 0 then u = math.max(u, hourEnd) end
  if dl == 0 then u = math.max(u, dayEnd) end
  return u
end

local function tier_keys(base, pool, h)
  local p = base .. ':p:' .. pool .. ':'
  local keys = { p .. 'all' }
  if h.nxx and h.nxx ~= '' then keys[#keys + 1] = p .. 'nxx:' .. h.nxx end
  if h.npa and h.npa ~= '' then keys[#keys + 1] = p .. 'npa:' .. h.npa end
  if h.st and h.st ~= '' then keys[#keys + 1] = p .. 'st:' .. h.st end
  return keys
end

local function unplace(base, number, h)
  for _, pool in ipairs(split(h.pools)) do
    for _, k in ipairs(tier_keys(base, pool, h)) do redis.call('ZREM', k, number) end
    redis.call('ZREM', base .. ':p:' .. pool .. ':cool', number)
  end
end

-- Puts the number where it belongs in every pool it serves: tier sets when usable at `now`,
-- else the cool set scored by when it becomes usable. Returns that time (-1 inactive).
local function place(base, number, h, now, hourId, hourEnd, dayId, dayEnd)
  local u = usable_at(h, hourId, hourEnd, dayId, dayEnd)
  if u < 0 then return u end
  for _, pool in ipairs(split(h.pools)) do
    if u > now then
      redis.call('ZADD', base .. ':p:' .. pool .. ':cool', u, number)
    else
      for _, k in ipairs(tier_keys(base, pool, h)) do redis.call('ZADD', k, num(h.last, 0), number) end
    end
  end
  return u
end

local function in_pool(h, pool)
  for _, p in ipairs(split(h.pools)) do
    if p == pool then return true end
  end
  return false
end

-- Sets fields of one number (`pairs`: field, value, ...; '' deletes the field) and places it in every
-- pool it serves before and after the change. Returns when it is usable (ms), -1 when inactive.
local function set_and_place(base, number, pairs, now, hourId, hourEnd, dayId, dayEnd)
  local key = base .. ':n:' .. number
  local h = hload(key)
  if h then unplace(base, number, h) else h = {} end
  local set, del = {}, {}
  for i = 1, #pairs, 2 do
    local f, v = pairs[i], pairs[i + 1]
    if v == '' then
      del[#del + 1] = f
      h[f] = nil
    else
      set[#set + 1] = f
      set[#set + 1] = v
      h[f] = v
    end
  end
  if #set > 0 then redis.call('HSET', key, unpack(set)) end
  if #del > 0 then redis.call('HDEL', key, unpack(del)) end
  return place(base, number, h, now, hourId, hourEnd, dayId, dayEnd)
end
