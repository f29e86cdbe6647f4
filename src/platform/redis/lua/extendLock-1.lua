--[[
  Extend a lock only if we still hold it (compare-and-pexpire), so a long apply keeps its lock.
  KEYS[1] the lock key
  ARGV[1] the token written when the lock was taken
  ARGV[2] the new time to live (ms)
  Returns 1 when the lock was ours and now lives ARGV[2] ms more, 0 otherwise.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
