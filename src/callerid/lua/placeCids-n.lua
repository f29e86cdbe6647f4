--[[
  placeCid for many numbers in one call (imports, rebuilds): the per-call cost of a script is paid
  once per batch instead of once per number, and the sorted-set writes are gathered per set.

  KEYS[1] prefix of the number hashes  KEYS[2] prefix of the pool keys
  KEYS[2+k] the hash of the k-th number of ARGV (the count of KEYS varies with the batch: `-n`)
  Keys named by data (built from KEYS[1], KEYS[2]): as in placeCid-3.lua, the tier and cool sets each
  number leaves and joins, which follow its hash as it is when the script runs.
  ARGV[1] now (ms)  ARGV[2] hour bucket id  ARGV[3] hour end (ms)
  ARGV[4] day bucket id  ARGV[5] day end (ms)
  ARGV[6..] per number: number, n (count of field/value items that follow), then n items
  Returns the count of numbers placed.
]]
--@include cid-common.lua

local K, now = cid_keys(KEYS[1], KEYS[2]), tonumber(ARGV[1])
local hourId, hourEnd, dayId, dayEnd = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local i, count = 6, 0
zbuffer()
while i <= #ARGV do
  local number, n = ARGV[i], tonumber(ARGV[i + 1])
  local pairs_ = {}
  for j = i + 2, i + 1 + n do pairs_[#pairs_ + 1] = ARGV[j] end
  set_and_place(K, KEYS[3 + count], number, pairs_, now, hourId, hourEnd, dayId, dayEnd)
  count = count + 1
  i = i + 2 + n
end
zflush()
return count
