--[[
  Place numbers read back from PostgreSQL while the hot state is rebuilt (Redis lost it), many a
  call. A number whose hash already exists is left as it is: it was placed earlier in this rebuild
  (it serves a pool loaded before, which may already be handing it out, so its hash is newer than
  PostgreSQL's row) and overwriting it would undo picks made since. Otherwise its hash is written
  with the fields that are not empty or zero, and it joins its tier sets, or its pools' cool sets
  when a limit or a rest holds it back, as placeCid-3.lua would place it.

  Every key this script may touch is known before the call (the numbers, their pools and tiers come
  from PostgreSQL), so each arrives in KEYS, named by CidKeys (src/platform/redis/keys.ts); the
  script builds no key name. The count of KEYS varies with the batch (`-n`).

  KEYS[1..c] the hash of each number, in ARGV order  KEYS[c+1..] the tier and cool sets they may join
  ARGV[1] now (ms)  ARGV[2] hour bucket id  ARGV[3] hour end (ms)  ARGV[4] day bucket id
  ARGV[5] day end (ms)  ARGV[6] c (the count of numbers)
  ARGV per number, 20 values: number, then the hash fields a npa nxx st hl dl pools last resv rest
  hb hc db dc tot ans unans ('' or '0' where unset), then the indexes into KEYS of the tier sets it
  joins and of the cool sets it joins instead when held back (each comma-separated, one argument).
  Returns { numbers placed, numbers left as they were }.
]]
--@include cid-common.lua

local now = tonumber(ARGV[1])
local hourId, hourEnd, dayId, dayEnd = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local c = tonumber(ARGV[6])
-- The hash fields in ARGV order; `true`: '0' is unset as well as '' (counters and times).
local FIELDS = {
  { 'a', false }, { 'npa', false }, { 'nxx', false }, { 'st', false }, { 'hl', false }, { 'dl', false },
  { 'pools', false }, { 'last', true }, { 'resv', true }, { 'rest', true }, { 'hb', false }, { 'hc', true },
  { 'db', false }, { 'dc', true }, { 'tot', true }, { 'ans', true }, { 'unans', true },
}
local NF = #FIELDS
local placed, kept = 0, 0
zbuffer()
local i = 7
for n = 1, c do
  local number = ARGV[i]
  if redis.call('EXISTS', KEYS[n]) == 1 then
    kept = kept + 1
  else
    local set, h = {}, {}
    for f = 1, NF do
      local v = ARGV[i + f]
      if v ~= '' and not (FIELDS[f][2] and v == '0') then
        local name = FIELDS[f][1]
        set[#set + 1] = name
        set[#set + 1] = v
        h[name] = v
      end
    end
    redis.call('HSET', KEYS[n], unpack(set))
    local held = held_until(h, hourId, hourEnd, dayId, dayEnd)
    if held >= 0 then
      local resv = num(h.resv, 0)
      if held > now then
        local score = math.max(held, resv)
        for ix in string.gmatch(ARGV[i + NF + 2], '%d+') do zadd(KEYS[tonumber(ix)], score, number) end
      else
        -- The tier sets' score: the reservation's end as the hash holds it (0: never reserved).
        local score = resv ~= 0 and h.resv or '0'
        for ix in string.gmatch(ARGV[i + NF + 1], '%d+') do zadd(KEYS[tonumber(ix)], score, number) end
      end
    end
    placed = placed + 1
  end
  i = i + NF + 3
end
zflush()
return { placed, kept }
