--[[
  A new hour began on the routing clock (in a zone some hold-queue waiter's caps count in): the one
  wake-up of the whole cluster for it. Every instance with such waiters runs this at that moment;
  the first claims the hour and, in the same step, starts a new round of turns (marks of the last
  round no longer hold: their hour's counters may be out of date, takeSlot-n.lua) and publishes the
  wake-up that gives every waiter on every instance its turn. The others find it claimed and publish
  nothing: one wake-up, however many instances, and none lost while any instance with waiters runs.
  KEYS[1] the hour's claim (`queue-hour:<ms>`)  KEYS[2] the hold queues' round of turns
  ARGV[1] the hold queues' wake-up channel  ARGV[2] the message  ARGV[3] how long the claim is kept (ms)
  Returns 1 claimed and published, 0 claimed already.
]]
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', tonumber(ARGV[3])) then return 0 end
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
