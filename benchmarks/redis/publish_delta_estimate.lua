#!lua
-- NOT a design, an estimate for BENCHMARKS.md ("What Redis pays per update"): what a write
-- carrying only the fields that changed since the worker's previous write of the key would cost
-- Redis on its common path. Same calls as lua/publish.lua (HGET seq, HSET, HLEN, PEXPIRE,
-- TIME, ZADD, PUBLISH of the FULL record's JSON), but ARGV[7] is the record's field count,
-- ARGV[8..11] 'stale' S 'seq' N, and ARGV[12..] only the changed fields: the HSET gets those,
-- and HLEN is compared with the count. A real design would
-- also need the worker to know the hash's seq (a compare-and-set: another writer, staleness.lua,
-- a restart or an expiry in between must force a full write) and to HDEL fields that became
-- unknown; none of that is here. pay.py runs it with `delta:NAME=PATH` (no effects check).
local key = KEYS[1]
if KEYS[4] ~= nil then
  local token = table.remove(ARGV)
  if redis.call('GET', KEYS[4]) ~= token then
    return redis.error_reply('FENCED this worker does not hold the lease ' .. KEYS[4])
  end
end
local member = ARGV[1]
local tracked = member ~= ''
local seq = (tonumber(redis.call('HGET', key, 'seq')) or 0) + 1
if ARGV[9] ~= '1' then ARGV[9] = '0' end
ARGV[11] = seq
local count = tonumber(ARGV[7])
local first = 8
if not tracked then first = 10 end
redis.call('HSET', key, unpack(ARGV, first))
if redis.call('HLEN', key) ~= count + (tracked and 2 or 1) then
  return redis.error_reply('REBASE the hash does not hold the fields the worker wrote last')
end
redis.call('PEXPIRE', key, ARGV[3])
if tracked then
  local score = ARGV[2]
  local age = tonumber(ARGV[6])
  if age then
    local t = redis.call('TIME')
    score = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - math.max(0, age)
  end
  redis.call('ZADD', KEYS[2], score, member)
end
local message
if tracked then
  message = string.sub(ARGV[4], 1, -2) .. ',"seq":' .. seq .. ',"stale":' .. ARGV[9] .. '}'
else
  message = string.sub(ARGV[4], 1, -2) .. ',"seq":' .. seq .. '}'
end
redis.call('PUBLISH', key, message)
return seq
