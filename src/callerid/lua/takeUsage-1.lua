--[[
  Take up to ARGV[2] numbers off the dirty set and return their usage for the flush to PostgreSQL,
  as one JSON document ready to be the flush's parameter: one round trip and one reply string.
  (Returning the fields flat cost the daemon more CPU decoding thousands of small replies each
  second than the rest of the flush; cjson is built into Redis.)

  KEYS[1] dirty SET   ARGV[1] key base   ARGV[2] how many   ARGV[3..] the hash fields to return
  Returns {count, json}: json is an array of rows [number, field...] ('' where a field is unset);
  numbers whose hash is gone are dropped (count 0: json is '[]').
]]
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local rows = {}
for _, m in ipairs(redis.call('SPOP', KEYS[1], tonumber(ARGV[2]))) do
  local v = redis.call('HMGET', ARGV[1] .. ':n:' .. m, unpack(fields))
  local row, any = { m }, false
  for i = 1, #fields do
    if v[i] then
      any = true
      row[i + 1] = v[i]
    else
      row[i + 1] = ''
    end
  end
  if any then rows[#rows + 1] = row end
end
-- cjson encodes an empty table as an object: the empty batch is spelt out.
if #rows == 0 then return { 0, '[]' } end
return { #rows, cjson.encode(rows) }
