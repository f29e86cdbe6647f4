-- Reserves the next send time of a carrier account's requests (GCRA without burst): requests go out
-- at most one per interval across every instance, in the order they asked.
-- KEYS[1] the account's theoretical arrival time (ms, Redis clock)
-- ARGV[1] interval between requests (ms, may be fractional)
-- ARGV[2] penalty: push the next send time at least this far from now (ms; a carrier's 429), 0 for none
-- Returns: how long the caller waits before sending (ms, integer); 0 for at once.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local penalty = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if penalty > 0 then
  if now + penalty > tat then tat = now + penalty end
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now + 60000))
  return 0
end
local slot = math.max(tat, now)
local nextTat = slot + interval
redis.call('SET', KEYS[1], tostring(nextTat), 'PX', math.ceil(nextTat - now + 60000))
return math.ceil(slot - now)
