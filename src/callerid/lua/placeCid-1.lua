--[[
  Set fields of one number and put it where it belongs in every pool it serves (before and after
  the change): used by CRUD, import, rebuild and health rests.

  KEYS[1] number hash
  ARGV[1] key base  ARGV[2] number  ARGV[3] now (ms)
  ARGV[4] hour bucket id  ARGV[5] hour end (ms)  ARGV[6] day bucket id  ARGV[7] day end (ms)
  ARGV[8] '1' to delete the number  ARGV[9..] field, value pairs to set ('' deletes the field)
  Returns the time the number becomes usable (ms; <= now usable now), -1 inactive, -2 deleted.
]]
--@include cid-common.lua

local base, number, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local h = hgetall(KEYS[1])
if h then unplace(base, number, h) else h = {} end
if ARGV[8] == '1' then
  redis.call('DEL', KEYS[1])
  return -2
end
local set, del = {}, {}
for i = 9, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    del[#del + 1] = ARGV[i]
    h[ARGV[i]] = nil
  else
    set[#set + 1] = ARGV[i]
    set[#set + 1] = ARGV[i + 1]
    h[ARGV[i]] = ARGV[i + 1]
  end
end
if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
return place(base, number, h, now, ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]))
