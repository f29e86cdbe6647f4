--[[
  Place numbers that did not exist before and are usable at once (an import's fresh inserts:
  active, no zero limit, never used): write each hash, then give every tier set its new members in
  one ZADD. Nothing to read or take out of sets, so none of placeCids' per-number work.

  KEYS[1] prefix of the number hashes  KEYS[2] prefix of the pool keys
  ARGV: per number 7 values: number, npa, nxx, state, hourly limit, daily limit
  (-1 none), pools (comma-separated); '' for an unknown npa/nxx/state.
  Returns the count of numbers placed.
]]
--@include cid-common.lua

local K = cid_keys(KEYS[1], KEYS[2])
local count = 0
zbuffer()
for i = 1, #ARGV, 7 do
  local number = ARGV[i]
  local h = { a = '1', npa = ARGV[i + 1], nxx = ARGV[i + 2], st = ARGV[i + 3], hl = ARGV[i + 4],
    dl = ARGV[i + 5], pools = ARGV[i + 6] }
  local set = { 'a', '1', 'hl', h.hl, 'dl', h.dl }
  for _, f in ipairs({ 'npa', 'nxx', 'st', 'pools' }) do
    if h[f] ~= '' then
      set[#set + 1] = f
      set[#set + 1] = h[f]
    end
  end
  redis.call('HSET', number_key(K, number), unpack(set))
  for _, pool in ipairs(pools_of(h)) do
    for _, k in ipairs(tier_keys(K, pool, h)) do zadd(k, 0, number) end
  end
  count = count + 1
end
zflush()
return count
