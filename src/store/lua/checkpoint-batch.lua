--[[
  Records one processed chunk: absolute counters and the next chunk index, written only if the
  chunk is the one expected (a second worker replaying the same chunk after a stall cannot count
  it twice). start-batch.lua, not this script, moves a queued batch to processing.

  KEYS[1] batch record hash (bg:{org}:batch:{batchId})

  ARGV[1] chunk index that was processed
  ARGV[2] processedCount after it
  ARGV[3] succeededCount after it
  ARGV[4] failedCount after it

  Returns: {'ok', status, previousProcessed, previousSucceeded, previousFailed} or {'stale', status}
]]
local nextChunk = tonumber(redis.call('HGET', KEYS[1], 'nextChunk') or '0')
local status = redis.call('HGET', KEYS[1], 'status')
if tonumber(ARGV[1]) ~= nextChunk then
  return {'stale', status or 'missing'}
end
local before = redis.call('HMGET', KEYS[1], 'processedCount', 'succeededCount', 'failedCount')
redis.call('HSET', KEYS[1], 'nextChunk', tostring(nextChunk + 1), 'processedCount', ARGV[2], 'succeededCount', ARGV[3], 'failedCount', ARGV[4])
return {'ok', status, before[1] or '0', before[2] or '0', before[3] or '0'}
