-- Accepts a TOTP time step once: a code seen before (or an older one) is a replay.
-- KEYS[1] last accepted step of the user; ARGV[1] step; ARGV[2] ttl ms. Returns 1 accepted, 0 replay.
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
local step = tonumber(ARGV[1])
if step <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
