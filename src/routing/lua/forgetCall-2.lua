--[[
  A call's CDR is written: its record and its place in its node's index go, in one command.
  KEYS[1] the call's record (HASH)   KEYS[2] the node's live calls (ZSET)   ARGV[1] the call id
  Returns 1.
]]
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
