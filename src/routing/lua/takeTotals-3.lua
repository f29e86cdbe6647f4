--[[
  Turn the totals waiting for PostgreSQL into a batch with its own id, so that the batch can be
  written exactly once (PostgreSQL remembers the ids it applied) and retried as often as needed.
  KEYS[1] totals waiting (HASH)   KEYS[2] the new batch (HASH, named by the batch id)
  KEYS[3] batches not yet known applied (SET of ids)
  ARGV[1] the batch id
  The batch gets the field `at`: Redis' time when it was made (ms), its cut-off.
  Returns 1 when a batch was made, 0 when nothing was waiting.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
local t = redis.call('TIME')
redis.call('HSET', KEYS[2], 'at', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('SADD', KEYS[3], ARGV[1])
return 1
