#!lua
-- quote-relay: the one atomic write of a data key (CONTRACT §3).
--
-- `#!lua` (Redis 7, no flags): Redis refuses the script as a whole while it is out of memory
-- (maxmemory with `noeviction`), so the worker's values wait (latest per key) instead of
-- growing a full server. On Redis < 7 the worker loads the script with this line turned into a
-- comment (a legacy script): Redis then checks memory at the script's first write only, which
-- is the HSET (refused under OOM, before anything changed), so a publish is still refused as a
-- whole unless that HSET passes.
--
-- KEYS[1]  the data hash, with prefix            (mkt:quote:AAPL)
-- KEYS[2]  the freshness index, a sorted set     (mkt:updated)
-- KEYS[3]  the update stream                     (mkt:stream)
-- ARGV[1]  member in KEYS[2]: the key without prefix (quote:AAPL); empty for keys that are
--          not freshness-tracked (chains): those get no `stale` field and no index entry
-- ARGV[2]  updated_ms (the worker's clock; kept in the hash)
-- ARGV[3]  TTL in milliseconds (> 0)
-- ARGV[4]  the pub/sub JSON object without seq/stale: the record's fields plus key and type
-- ARGV[5]  stream MAXLEN (approximate); 0 = no stream entry
-- ARGV[6]  age_ms: how long before sending the worker confirmed the values (its updated_ms
--          measured on its own clock); "" = use ARGV[2] as the score
-- ARGV[7..10]  'stale' S 'seq' N: the script fills N; S is '1' when the worker knows the values
--              are already older than the staleness threshold (age_ms > threshold: a key
--              written again after a Redis restart or refusal), else '0' (any other value: '0')
-- ARGV[11..]   the record's fields as name/value pairs: the COMPLETE known state
-- KEYS[4]  optional, with worker.group: the group's lease key (mkt:group:GROUP:lease). The
--          fence token is then the LAST argument, after the fields (ARGV[#ARGV]): the write
--          happens only while the lease key holds exactly that token; otherwise nothing is
--          changed and the script answers the error `FENCED` (the writer counts and drops it).
--          A worker that lost its lease, even one paused mid-batch, can never overwrite the
--          data of the worker that holds it now.
--
-- The hash ends up holding exactly the record (plus `seq`, and `stale` for tracked keys), in one
-- atomic step: a reader never sees old and new fields of one record mixed, fields that became
-- unknown are gone, and on a source switch every field of the other source is gone. The usual
-- write changes values, not the set of fields, so the fields are written in place (one HSET) and
-- HLEN tells whether the hash holds anything else: the HSET leaves old-or-new fields, and when
-- their number is that of the record's fields (the worker sends each name once), the hash is
-- exactly the record. Only otherwise (a field became unknown, another source, a field someone
-- else added; or HLEN refused by an ACL that predates it) is the hash replaced: DEL, then the
-- same HSET. In place costs Redis less than
-- rebuilding the hash on every write (no key deletion and re-creation, no new listpack, the TTL
-- entry kept): measured in BENCHMARKS.md ("What Redis pays per update"). Only `seq` survives a
-- replacement. A write confirms the data, so `stale` is 0, unless the values are already older
-- than the threshold: then `stale` is 1 from the start (staleness.lua keeps it).
--
-- Returns the new seq.
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
ARGV[7] = 'stale'
if ARGV[8] ~= '1' then ARGV[8] = '0' end
ARGV[9] = 'seq'
ARGV[10] = seq
local first = 7
if not tracked then first = 9 end
redis.call('HSET', key, unpack(ARGV, first))
-- pcall: an ACL user from before HLEN was used (config/redis-acl.conf without +hlen) gets an
-- error table here, never equal to a count, so its hashes are replaced as they used to be.
if redis.pcall('HLEN', key) ~= (#ARGV - first + 1) / 2 then
  -- Fields the record does not have: replace the hash.
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(ARGV, first))
end
redis.call('PEXPIRE', key, ARGV[3])

if tracked then
  -- The freshness index is on Redis' clock, like staleness.lua's cutoff: the worker's clock may
  -- be minutes off Redis' (another host), and only the age it measured itself is trusted.
  local score = ARGV[2]
  local age = tonumber(ARGV[6])
  if age then
    local t = redis.call('TIME')
    score = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - math.max(0, age)
  end
  redis.call('ZADD', KEYS[2], score, member)
end

local payload = ARGV[4]
local message
if tracked then
  message = string.sub(payload, 1, -2) .. ',"seq":' .. seq .. ',"stale":' .. ARGV[8] .. '}'
else
  message = string.sub(payload, 1, -2) .. ',"seq":' .. seq .. '}'
end
redis.call('PUBLISH', key, message)

local maxlen = tonumber(ARGV[5])
if maxlen and maxlen > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '*', 'key', key, 'payload', message)
end
return seq
