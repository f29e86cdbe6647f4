--[[
  Take up to ARGV[1] numbers off the dirty set and return their usage for the flush to PostgreSQL,
  as one JSON document ready to be the flush's parameter: one round trip and one reply string.
  (Returning the fields flat cost the daemon more CPU decoding thousands of small replies each
  second than the rest of the flush; cjson is built into Redis.)

  The numbers taken are not forgotten: they move to a leased ZSET (number -> lease end, ms) until the
  flush has written them and acknowledges (ZREM). A flush that dies, or cannot put them back, leaves
  them there, and the first take after their lease ended moves them back to the dirty set: a number
  whose usage changed always reaches PostgreSQL (usage values are absolute: writing one twice is
  harmless).

  KEYS[1] dirty SET   KEYS[2] leased ZSET   KEYS[3] prefix of the number hashes (KEYS[3] .. number)
  Keys named by data: the hashes of the members SPOP takes, which only this script knows (a
  read-then-call would take members another flush or a pick's SADD changed meanwhile).
  ARGV[1] now (ms)   ARGV[2] lease (ms)   ARGV[3] how many   ARGV[4..] the hash fields to return
  Returns {count, json}: json is an object number -> [field...] ('' where a field is unset), keyed
  by number so the UPDATE finds each row by its primary key; numbers whose hash is gone are dropped
  (count 0: json is '{}').
]]
local now = tonumber(ARGV[1])
-- Leases that ended: their flush is gone; the numbers are dirty again.
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for i = 1, #expired, 500 do
  redis.call('SADD', KEYS[1], unpack(expired, i, math.min(i + 499, #expired)))
  redis.call('ZREM', KEYS[2], unpack(expired, i, math.min(i + 499, #expired)))
end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local usage, count = {}, 0
local until_ms = now + tonumber(ARGV[2])
for _, m in ipairs(redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))) do
  redis.call('ZADD', KEYS[2], until_ms, m)
  local v = redis.call('HMGET', KEYS[3] .. m, unpack(fields))
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
