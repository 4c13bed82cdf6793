/**
 * The Lua scripts of the Redis store. Each check is one script, so it is atomic and one round
 * trip; each reads the time from Redis (TIME), so replicas with skewed clocks count alike; each
 * key it writes gets a TTL.
 */

/** The current time in milliseconds, from Redis's clock. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Sliding-window log: one sorted-set member per allowed request, scored by its time. Exact (never
 * more than `limit` in any window, no 2x burst at window edges).
 * KEYS[1] the log; ARGV[1] limit; ARGV[2] window in ms; ARGV[3] a unique member.
 * Returns {allowed 0|1, remaining, ms until one more is allowed}.
 */
export const SLIDING_WINDOW_SCRIPT = `${NOW}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, limit - count - 1, tonumber(oldest[2]) + window - now}
end
local freed = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return {0, 0, tonumber(freed[2]) + window - now}
`;

/**
 * Fixed calendar period counter (quotas): a hash {s: period start, c: count}, reset when a new
 * period starts. KEYS[1] the counter; ARGV[1] limit; ARGV[2] period name.
 * Returns {allowed 0|1, remaining, ms until the period ends}.
 */
export const PERIOD_COUNT_SCRIPT = `${NOW}
local limit = tonumber(ARGV[1])
local period = ARGV[2]
local DAY = 86400000
local function daysFromCivil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
local startMs, endMs
if period == 'minute' or period == 'hour' or period == 'day' then
  local length = period == 'minute' and 60000 or (period == 'hour' and 3600000 or DAY)
  startMs = now - (now % length)
  endMs = startMs + length
elseif period == 'week' then
  local day = math.floor(now / DAY)
  startMs = (day - ((day + 3) % 7)) * DAY
  endMs = startMs + 7 * DAY
else
  local z = math.floor(now / DAY) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  startMs = daysFromCivil(y, m, 1) * DAY
  if m == 12 then endMs = daysFromCivil(y + 1, 1, 1) * DAY else endMs = daysFromCivil(y, m + 1, 1) * DAY end
end
local current = redis.call('HMGET', KEYS[1], 's', 'c')
local count = 0
if current[1] and tonumber(current[1]) == startMs then count = tonumber(current[2]) end
if count >= limit then return {0, 0, endMs - now} end
if count == 0 then
  redis.call('HSET', KEYS[1], 's', startMs, 'c', 1)
else
  redis.call('HINCRBY', KEYS[1], 'c', 1)
end
redis.call('PEXPIREAT', KEYS[1], endMs + 1000)
return {1, limit - count - 1, endMs - now}
`;
