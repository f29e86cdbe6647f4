--[[
  Place numbers that did not exist before and are usable at once (an import's fresh inserts:
  active, no zero limit, never used): write each hash, then give every tier set its new members in
  one ZADD. Nothing to read or take out of sets, so none of placeCids' per-number work.

  Every key this script touches is known before the call (the numbers and their pools and tiers
  are its arguments), so each arrives in KEYS, named by CidKeys (src/platform/redis/keys.ts): the
  script builds no key name. The count of KEYS varies with the batch (`-n` in the file name: the
  caller passes it).

  KEYS[1..c] the hash of each number, in ARGV order  KEYS[c+1..] the tier sets they join
  ARGV[1] c (the count of numbers)
  ARGV per number, 8 values: number, npa, nxx, state, hourly limit, daily limit (-1 none),
  pools (comma-separated), the indexes into KEYS of the tier sets it joins (comma-separated: one
  argument, not one each, since every argument costs the client and Redis to frame and parse);
  '' for an unknown npa/nxx/state: no field written.
  Returns the count of numbers placed.
]]

local c = tonumber(ARGV[1])
local adds = {} -- KEYS index of a tier set -> { 0, number, 0, number, ... } (ZADD arguments)
local i = 2
for n = 1, c do
  local set = { 'a', '1', 'hl', ARGV[i + 4], 'dl', ARGV[i + 5] }
  local fields = { 'npa', 'nxx', 'st' }
  for f = 1, 3 do
    local v = ARGV[i + f]
    if v ~= '' then
      set[#set + 1] = fields[f]
      set[#set + 1] = v
    end
  end
  if ARGV[i + 6] ~= '' then
    set[#set + 1] = 'pools'
    set[#set + 1] = ARGV[i + 6]
  end
  redis.call('HSET', KEYS[n], unpack(set))
  for ix in string.gmatch(ARGV[i + 7], '%d+') do
    local s = tonumber(ix)
    local a = adds[s]
    if not a then
      a = {}
      adds[s] = a
    end
    a[#a + 1] = 0
    a[#a + 1] = ARGV[i]
  end
  i = i + 8
end
local CHUNK = 4000 -- well under Lua's C stack limit for unpack() (an even count: score, member pairs)
for s, a in pairs(adds) do
  for j = 1, #a, CHUNK do redis.call('ZADD', KEYS[s], unpack(a, j, math.min(j + CHUNK - 1, #a))) end
end
return c
