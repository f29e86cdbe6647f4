--[[
  Record one outbound call outcome of a number (once per call, whichever instance or channel
  reports it first) and rest the number when its answer rate over the window falls too low.

  KEYS[1] number hash  KEYS[2] dedupe key of the call  KEYS[3] dirty SET
  KEYS[4] prefix of the number hashes  KEYS[5] prefix of the pool keys
  Keys named by data (built from KEYS[4], KEYS[5]): the settings of the pool the number was last
  picked from (`lp` in its hash) and, when it is rested, the tier and cool sets of every pool its
  hash lists. A pick or an import can change both between any read and this script; the rest must
  move the number out of the sets its hash names at this instant.
  ARGV[1] number  ARGV[2] now (ms)  ARGV[3] '1' answered / '0' not
  ARGV[4] hour bucket id  ARGV[5] hour end  ARGV[6] day bucket id  ARGV[7] day end
  ARGV[8] dedupe ttl (s)  ARGV[9..11] default window, min answer rate, rest (s) when the pool has no config
  Returns {-1} not our number; {0} already counted; {1, rate*1000, calls in window} counted;
  {2, rest end ms} counted and the number is now rested.
]]
--@include cid-common.lua

local K, number, now = cid_keys(KEYS[4], KEYS[5]), ARGV[1], tonumber(ARGV[2])
local h = hgetall(KEYS[1])
if not h then return { -1 } end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[8])) then return { 0 } end

local answered = ARGV[3] == '1'
redis.call('HINCRBY', KEYS[1], answered and 'ans' or 'unans', 1)
redis.call('SADD', KEYS[3], number)

-- The settings of the pool the number was last picked from (else the first it serves).
local pool = h.lp
if not pool or pool == '' then pool = split(h.pools)[1] end
local window, minRate, restS = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
if pool then
  local cfg = redis.call('HMGET', pool_key(K, pool, 'cfg'), 'hw', 'hr', 'hs')
  window, minRate, restS = num(cfg[1], window), num(cfg[2], minRate), num(cfg[3], restS)
end

local hw = (h.hw or '') .. (answered and '1' or '0')
if #hw > window then hw = string.sub(hw, #hw - window + 1) end
local ones = 0
for i = 1, #hw do if string.sub(hw, i, i) == '1' then ones = ones + 1 end end
local rate = ones / #hw

if #hw >= window and rate < minRate then
  local rest = now + restS * 1000
  unplace(K, number, h)
  h.rest = tostring(rest)
  h.hw = ''
  redis.call('HSET', KEYS[1], 'rest', rest, 'hw', '')
  place(K, number, h, now, ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]))
  return { 2, rest }
end
redis.call('HSET', KEYS[1], 'hw', hw)
return { 1, math.floor(rate * 1000), #hw }
