--[[
  Take up to ARGV[2] numbers off the dirty set and return their usage, flat, for the flush to
  PostgreSQL: one round trip and one reply instead of an HGETALL per number (the per-number
  commands had cost the daemon more CPU than the picks they recorded).

  KEYS[1] dirty SET   ARGV[1] key base   ARGV[2] how many   ARGV[3..] the hash fields to return
  Returns, for each number that still has a hash: the number, then its fields ('' when unset).
]]
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local out = {}
for _, m in ipairs(redis.call('SPOP', KEYS[1], tonumber(ARGV[2]))) do
  local v = redis.call('HMGET', ARGV[1] .. ':n:' .. m, unpack(fields))
  local any = false
  for i = 1, #fields do
    if v[i] then any = true else v[i] = '' end
  end
  if any then
    out[#out + 1] = m
    for i = 1, #fields do out[#out + 1] = v[i] end
  end
end
return out
