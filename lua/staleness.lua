#!lua flags=allow-oom
-- quote-relay: the staleness check (CONTRACT §3), run every failover.check_interval_seconds.
--
-- KEYS[1]  the freshness index, a sorted set      (mkt:updated): member quote:AAPL, score updated_ms
-- KEYS[2]  the members flagged stale, a set      (mkt:stale)    contract extension, see README
-- ARGV[1]  threshold in milliseconds (failover.staleness_seconds * 1000)
-- ARGV[2]  the key prefix with its separator ("mkt:"; "" for no prefix): member -> hash name
-- KEYS[3]  optional, with worker.group: the group's lease key; ARGV[3] the fence token. The
--          check runs only while the lease key holds exactly that token, else the error
--          `FENCED` (see publish.lua): only the worker holding the lease flags keys.
--
-- Uses Redis' own clock (TIME), so the worker's clock and the script's agree for every
-- reader. A member is stale when now - updated_ms > threshold.
--
-- KEYS[2] holds exactly the members whose stale flag this script set, so the keys that became
-- fresh again are found by looking at the few flagged members, never by scanning the index.
-- publish.lua writes stale=0 on every write (a write confirms the data) and leaves KEYS[2]
-- alone: the next check reports the key fresh (or sets the flag again, without reporting it
-- twice, if the write carried an old updated_ms).
--
-- Members whose hash has expired (TTL) are dropped from both sets and reported as expired.
--
-- Setting or clearing the flag is a write of the key: its `seq` grows by one and the full
-- record is published on the key's own channel, so SUBSCRIBE + HGETALL stays the whole story
-- for a subscriber (the same JSON shape as publish.lua's: fields, then key and type).
--
-- `allow-oom` (Redis 7 script flag): when Redis is out of memory (maxmemory with `noeviction`)
-- the stale flag is still set, so a key is never silently stale because Redis is full; the
-- writes are bounded (one field per key, one member of P:stale per key). On Redis < 7 the
-- worker loads the script without its first line (legacy: refused under OOM).
--
-- Returns { newly_stale_members, newly_fresh_members, expired_members, stale_total, now_ms }.
if KEYS[3] and redis.call('GET', KEYS[3]) ~= ARGV[3] then
  return redis.error_reply('FENCED this worker does not hold the lease ' .. KEYS[3])
end
local index = KEYS[1]
local flagged = KEYS[2]
local threshold = tonumber(ARGV[1])
local prefix = ARGV[2]

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cutoff = now - threshold

local newly_stale, newly_fresh, expired = {}, {}, {}

-- The text fields of quote and option hashes (MarketModel's `text(...)` fields): always JSON
-- strings, even when they look like numbers (a symbol `1234`, an expiry `20261218`).
local text = {
  symbol = true, expiry = true, right = true, source = true, data_type = true, sec_type = true,
  local_symbol = true, currency = true, trading_class = true, exchange = true, contract_month = true,
}

-- A JSON number literal (RFC 8259 §6): anything else is published as a string, so a field this
-- list does not know yet can never make the message invalid JSON.
local function is_json_number(v)
  local mantissa, exponent = string.match(v, '^(-?[0-9][0-9.]*)([eE][-+]?[0-9]+)$')
  if not mantissa then mantissa = v end
  return string.match(mantissa, '^-?0$') ~= nil or string.match(mantissa, '^-?[1-9][0-9]*$') ~= nil
    or string.match(mantissa, '^-?0%.[0-9]+$') ~= nil or string.match(mantissa, '^-?[1-9][0-9]*%.[0-9]+$') ~= nil
end

local function set_flag(key, member, value)
  redis.call('HSET', key, 'stale', value)
  redis.call('HINCRBY', key, 'seq', 1)
  local h = redis.call('HGETALL', key)
  local parts = {}
  for i = 1, #h, 2 do
    local name, v = h[i], h[i + 1]
    if text[name] or not is_json_number(v) then v = cjson.encode(v) end
    parts[#parts + 1] = cjson.encode(name) .. ':' .. v
  end
  local kind = string.match(member, '^([^:]+):') or ''
  parts[#parts + 1] = '"key":' .. cjson.encode(key)
  parts[#parts + 1] = '"type":' .. cjson.encode(kind)
  redis.call('PUBLISH', key, '{' .. table.concat(parts, ',') .. '}')
end

-- Flagged members that are fresh again (or gone).
for _, member in ipairs(redis.call('SMEMBERS', flagged)) do
  local score = redis.call('ZSCORE', index, member)
  local key = prefix .. member
  if not score or redis.call('EXISTS', key) == 0 then
    redis.call('SREM', flagged, member)
    redis.call('ZREM', index, member)
    expired[#expired + 1] = member
  elseif tonumber(score) >= cutoff then
    redis.call('SREM', flagged, member)
    if redis.call('HGET', key, 'stale') ~= '0' then
      set_flag(key, member, '0')
    end
    newly_fresh[#newly_fresh + 1] = member
  end
end

-- Members older than the threshold.
for _, member in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. cutoff)) do
  local key = prefix .. member
  local stale = redis.call('HGET', key, 'stale')
  if not stale and redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', index, member)
    expired[#expired + 1] = member
  else
    if stale ~= '1' then
      set_flag(key, member, '1')
    end
    if redis.call('SADD', flagged, member) == 1 then
      newly_stale[#newly_stale + 1] = member
    end
  end
end

return { newly_stale, newly_fresh, expired, redis.call('SCARD', flagged), now }
