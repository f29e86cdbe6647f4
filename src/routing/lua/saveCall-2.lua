--[[
  Writes a live call's record (call-record.ts says what it holds) in one command: its fields, us as
  its owner if it has none yet, its expiry, and its place in its node's index of live calls. One
  script rather than a MULTI of four commands: a call is written about three times, and ioredis'
  transaction machinery cost more CPU per call than everything else of the record together.
  KEYS[1] the call's record (HASH)   KEYS[2] the node's live calls (ZSET call id -> expiry ms)
  ARGV[1] our token  ARGV[2] the record's time to live (ms)  ARGV[3] its expiry in the index (ms)
  ARGV[4] the call id  ARGV[5..] field, value, field, value ...
  Returns 1.
]]
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HSETNX', KEYS[1], 'own', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
