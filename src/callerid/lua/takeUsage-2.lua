--[[
  Take up to ARGV[1] numbers off the dirty set and return their usage for the flush to PostgreSQL,
  as one JSON document ready to be the flush's parameter: one round trip and one reply string.
  (Returning the fields flat cost the daemon more CPU decoding thousands of small replies each
  second than the rest of the flush; cjson is built into Redis.)

  KEYS[1] dirty SET   KEYS[2] prefix of the number hashes (a member's hash: KEYS[2] .. number)
  Keys named by data: the hashes of the members SPOP takes, which only this script knows (a
  read-then-call would take members another flush or a pick's SADD changed meanwhile).
  ARGV[1] how many   ARGV[2..] the hash fields to return
  Returns {count, json}: json is an object number -> [field...] ('' where a field is unset), keyed
  by number so the UPDATE finds each row by its primary key; numbers whose hash is gone are dropped
  (count 0: json is '{}').
]]
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
local usage, count = {}, 0
for _, m in ipairs(redis.call('SPOP', KEYS[1], tonumber(ARGV[1]))) do
  local v = redis.call('HMGET', KEYS[2] .. m, unpack(fields))
  local row, any = {}, false
  for i = 1, #fields do
    if v[i] then
      any = true
      row[i] = v[i]
    else
      row[i] = ''
    end
  end
  if any then
    usage[m] = row
    count = count + 1
  end
end
-- Keys are numbers as strings ('+1...'), so cjson writes an object (an empty table too: '{}').
return { count, cjson.encode(usage) }
