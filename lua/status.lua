#!lua flags=allow-oom
-- quote-relay: the worker status hash P:worker:ID (CONTRACT §3), written every
-- worker.status_interval_seconds and on every state change.
--
-- KEYS[1]  the status hash, with prefix           (mkt:worker:quote-relay-1)
-- ARGV[1]  its TTL in milliseconds (3 x ib.heartbeat_interval_seconds)
-- ARGV[2], ARGV[3], ...  field name, value, name, value, ... (may be none)
--
-- Replaces the hash as a whole (DEL + HSET), so fields that are no longer known disappear,
-- and the hash never exists without its TTL.
--
-- `allow-oom` (Redis 7 script flag): when Redis is out of memory (maxmemory reached with
-- `noeviction`) it refuses every write that may grow memory; data writes wait in the worker
-- (latest value per key) until it accepts them again, but this small, bounded write still goes
-- through, so operators read a status that says Redis refuses writes (`redis_write_error`)
-- instead of finding the hash expired. The hash is replaced, not grown: its size stays that of
-- one status (a few hundred bytes). On Redis < 7, which does not know script flags, the worker
-- loads this script without its first line (a legacy script, refused under OOM like any write).
redis.call('DEL', KEYS[1])
if #ARGV > 1 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
