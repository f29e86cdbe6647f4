--[[
  placeCid for many numbers in one call (imports, rebuilds): the per-call cost of a script is paid
  once per batch instead of once per number, and the sorted-set writes are gathered per set.

  KEYS[1] the ready marker (only so the call is routed to the slot of the {cid} keys)
  ARGV[1] key base  ARGV[2] now (ms)  ARGV[3] hour bucket id  ARGV[4] hour end (ms)
  ARGV[5] day bucket id  ARGV[6] day end (ms)
  ARGV[7..] per number: number, n (count of field/value items that follow), then n items
  Returns the count of numbers placed.
]]
--@include cid-common.lua

local base, now = ARGV[1], tonumber(ARGV[2])
local hourId, hourEnd, dayId, dayEnd = ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local i, count = 7, 0
zbuffer()
while i <= #ARGV do
  local number, n = ARGV[i], tonumber(ARGV[i + 1])
  local pairs_ = {}
  for j = i + 2, i + 1 + n do pairs_[#pairs_ + 1] = ARGV[j] end
  set_and_place(base, number, pairs_, now, hourId, hourEnd, dayId, dayEnd)
  count = count + 1
  i = i + 2 + n
end
zflush()
return count
