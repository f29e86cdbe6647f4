--[[
  Set fields of one number and put it where it belongs in every pool it serves (before and after
  the change): used by CRUD, health rests and deletes.

  KEYS[1] number hash
  ARGV[1] key base  ARGV[2] number  ARGV[3] now (ms)
  ARGV[4] hour bucket id  ARGV[5] hour end (ms)  ARGV[6] day bucket id  ARGV[7] day end (ms)
  ARGV[8] '1' to delete the number  ARGV[9..] field, value pairs to set ('' deletes the field)
  Returns the time the number becomes usable (ms; <= now usable now), -1 inactive, -2 deleted.
]]
--@include cid-common.lua

local base, number, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
if ARGV[8] == '1' then
  local h = hgetall(KEYS[1])
  if h then unplace(base, number, h) end
  redis.call('DEL', KEYS[1])
  return -2
end
local pairs_ = {}
for i = 9, #ARGV do pairs_[#pairs_ + 1] = ARGV[i] end
return set_and_place(base, number, pairs_, now, ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]))
