--[[
  A call is about to get its CDR: only its owner writes it. An instance whose call another took
  over (it was thought dead: a stall past the heartbeat bound) must not write a second record.
  The record stays (phase `ended`) until the CDR is written, then call-store.ts deletes it; a crash
  in between leaves it for a takeover, which writes the CDR (the call id is the CDR's key: a copy
  that reached PostgreSQL first wins, never two).
  KEYS[1] the call's record (HASH)   ARGV[1] our token
  Returns 1 ours (or no record: written before records existed, or its write failed), 0 not ours.
]]
local owner = redis.call('HGET', KEYS[1], 'own')
if owner and owner ~= ARGV[1] then return 0 end
if owner then redis.call('HSET', KEYS[1], 'ph', 'ended') end
return 1
