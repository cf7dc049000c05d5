#!lua flags=allow-oom
-- quote-relay: the lease of a worker group (worker.group; README "A standby pair").
--
-- `allow-oom` (Redis 7 script flag): the lease is renewed and can be taken over while Redis is out
-- of memory (one small key), so a full Redis does not leave the group without an active worker.
--
-- KEYS[1]  the lease key                           (mkt:group:GROUP:lease)
-- ARGV[1]  the operation: 'acquire', 'renew' or 'release'
-- ARGV[2]  the caller's owner token: "<worker.id>#<random hex>", new for every acquisition
-- ARGV[3]  the lease TTL in milliseconds (> 0; unused by 'release')
--
-- acquire: SET KEYS[1] token NX PX ttl: the key is taken only if nobody holds it.
-- renew:   PEXPIRE ttl, only while the key still holds the caller's token.
-- release: DEL, only while the key still holds the caller's token (a graceful stop hands the
--          group over at once instead of after the TTL).
--
-- The check and the change are one atomic step, so a worker whose lease expired and was taken
-- by another can never extend or delete the new holder's lease.
--
-- Returns { held, holder, pttl }: held = 1 when the caller holds the lease after the call
-- (always 0 after 'release'), holder = the key's value now (false when nobody holds it),
-- pttl = its remaining time in ms (-2 when absent).
local key = KEYS[1]
local op = ARGV[1]
local token = ARGV[2]

if op == 'acquire' then
  if redis.call('SET', key, token, 'NX', 'PX', ARGV[3]) then
    return { 1, token, tonumber(ARGV[3]) }
  end
elseif op == 'renew' then
  if redis.call('GET', key) == token then
    redis.call('PEXPIRE', key, ARGV[3])
    return { 1, token, tonumber(ARGV[3]) }
  end
elseif op == 'release' then
  if redis.call('GET', key) == token then
    redis.call('DEL', key)
    return { 0, false, -2 }
  end
else
  return redis.error_reply('ERR lease.lua: unknown operation ' .. tostring(op))
end
return { 0, redis.call('GET', key), redis.call('PTTL', key) }
