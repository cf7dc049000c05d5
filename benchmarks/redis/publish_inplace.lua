-- A design alternative to lua/publish.lua, kept only for the benchmarks (pay.sh, run.sh): the
-- same arguments and effects, but the hash is updated in place; fields that became unknown
-- are found with HKEYS and removed with HDEL, and the hash is deleted only on a source switch.
-- (Brought up to date with the fence, ARGV[8] and the Redis-clock score in issue 15.)
local key = KEYS[1]
if KEYS[4] ~= nil then
  local token = table.remove(ARGV)
  if redis.call('GET', KEYS[4]) ~= token then
    return redis.error_reply('FENCED this worker does not hold the lease ' .. KEYS[4])
  end
end
local member = ARGV[1]
local tracked = member ~= ''
local old = redis.call('HMGET', key, 'source', 'seq')
local seq = (tonumber(old[2]) or 0) + 1
local keep = { seq = true }
if tracked then keep.stale = true end
local newsource
for i = 11, #ARGV, 2 do
  keep[ARGV[i]] = true
  if ARGV[i] == 'source' then newsource = ARGV[i + 1] end
end
if old[1] and old[1] ~= newsource then
  redis.call('DEL', key)
else
  local gone = {}
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if not keep[name] then gone[#gone + 1] = name end
  end
  if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
end
ARGV[7] = 'stale'
if ARGV[8] ~= '1' then ARGV[8] = '0' end
ARGV[9] = 'seq'
ARGV[10] = seq
local first = 7
if not tracked then first = 9 end
redis.call('HSET', key, unpack(ARGV, first))
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
  message = string.sub(ARGV[4], 1, -2) .. ',"seq":' .. seq .. ',"stale":' .. ARGV[8] .. '}'
else
  message = string.sub(ARGV[4], 1, -2) .. ',"seq":' .. seq .. '}'
end
redis.call('PUBLISH', key, message)
local maxlen = tonumber(ARGV[5])
if maxlen and maxlen > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '*', 'key', key, 'payload', message)
end
return seq
