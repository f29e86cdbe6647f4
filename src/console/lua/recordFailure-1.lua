-- Counts one failed sign-in on a throttle key. KEYS[1] hash {n, last}; ARGV[1] now ms; ARGV[2] ttl ms.
-- Returns the failure count.
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
