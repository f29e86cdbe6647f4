--[[
  Set fields of one number and put it where it belongs in every pool it serves (before and after
  the change): used by CRUD, health rests and deletes.

  KEYS[1] number hash  KEYS[2] prefix of the number hashes  KEYS[3] prefix of the pool keys
  Keys named by data (built from KEYS[2], KEYS[3]): the tier and cool sets the number leaves are
  those of the pools and tiers its hash holds when the script runs (a pick, a health rest or an
  import may change them after any read), and the sets it joins follow the merged pool list
  (`pools+`). Named before the call, a number could be left in a set it no longer belongs to.
  ARGV[1] number  ARGV[2] now (ms)
  ARGV[3] hour bucket id  ARGV[4] hour end (ms)  ARGV[5] day bucket id  ARGV[6] day end (ms)
  ARGV[7] '1' to delete the number  ARGV[8..] field, value pairs to set ('' deletes the field)
  Returns the time the number becomes usable (ms; <= now usable now), -1 inactive, -2 deleted.
]]
--@include cid-common.lua

local K, number, now = cid_keys(KEYS[2], KEYS[3]), ARGV[1], tonumber(ARGV[2])
if ARGV[7] == '1' then
  local h = hgetall(KEYS[1])
  if h then unplace(K, number, h) end
  redis.call('DEL', KEYS[1])
  return -2
end
local pairs_ = {}
for i = 8, #ARGV do pairs_[#pairs_ + 1] = ARGV[i] end
return set_and_place(K, KEYS[1], number, pairs_, now, ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]))
