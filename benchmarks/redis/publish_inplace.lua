-- The design alternative to lua/publish.lua, kept only for the benchmark: the same
-- arguments and effects, but the hash is updated in place; fields that became unknown are
-- found with HKEYS and removed with HDEL, and the hash is deleted only on a source switch.
local key = KEYS[1]
local member = ARGV[1]
local tracked = member ~= ''
local old = redis.call('HMGET', key, 'source', 'seq')
local seq = (tonumber(old[2]) or 0) + 1
local keep = { seq = true, stale = true }
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
ARGV[7] = 'stale'; ARGV[8] = '0'; ARGV[9] = 'seq'; ARGV[10] = seq
local first = 7
if not tracked then first = 9 end
redis.call('HSET', key, unpack(ARGV, first))
redis.call('PEXPIRE', key, ARGV[3])
if tracked then redis.call('ZADD', KEYS[2], ARGV[2], member) end
local message = string.sub(ARGV[4], 1, -2) .. ',"seq":' .. seq .. (tracked and ',"stale":0}' or '}')
redis.call('PUBLISH', key, message)
local maxlen = tonumber(ARGV[5])
if maxlen and maxlen > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '*', 'key', key, 'payload', message)
end
return seq
