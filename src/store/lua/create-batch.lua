--[[
  Creates a batch atomically: consumes the upload (for a file batch), checks the plan limits
  against the organization's counters, writes the tombstone and the batch record, and reserves
  the items against the monthly quota. A refused request changes nothing.
  All keys share the organization's hash tag, so this is one slot on Redis Cluster.

  KEYS[1] upload metadata key       (bg:{org}:upload:{fileId}; unused for direct items)
  KEYS[2] consumed tombstone key    (bg:{org}:consumed:{fileId}; unused for direct items)
  KEYS[3] monthly usage counter     (bg:{org}:usage:{YYYY-MM})
  KEYS[4] active batches set        (bg:{org}:active)
  KEYS[5] batch record hash         (bg:{org}:batch:{batchId})
  KEYS[6] batch index sorted set    (bg:{org}:batches)

  ARGV[1]  mode: 'file' or 'items'
  ARGV[2]  batchId
  ARGV[3]  created-at in ms (index score)
  ARGV[4]  itemCount for 'items' mode (ignored for 'file': read from the upload)
  ARGV[5]  maxItemsPerBatch
  ARGV[6]  maxItemsPerMonth, or -1 for unlimited
  ARGV[7]  maxConcurrentBatches
  ARGV[8]  tombstone TTL in seconds
  ARGV[9]  '1' for a dry run (check only, change nothing)
  ARGV[10] usage counter TTL in seconds
  ARGV[11..] batch record fields as field, value pairs (itemCount and upload fields are added here)

  Returns:
    {'consumed', tombstoneJson}                      the upload was already consumed
    {'missing'}                                       no live upload (expired or unknown)
    {'quota', limitName, max, used, requested, itemCount, usedThisMonth, activeBatches}   a plan limit would be passed
    {'ok', itemCount, usedThisMonth, activeBatches, uploadJson}   created (or, for a dry run, would be)
]]
local mode = ARGV[1]
local batchId = ARGV[2]
local upload = false
local itemCount = tonumber(ARGV[4])

if mode == 'file' then
  local tombstone = redis.call('GET', KEYS[2])
  if tombstone then
    return {'consumed', tombstone}
  end
  upload = redis.call('GET', KEYS[1])
  if not upload then
    return {'missing'}
  end
  itemCount = cjson.decode(upload)['itemCount']
end

local maxPerBatch = tonumber(ARGV[5])
local maxPerMonth = tonumber(ARGV[6])
local maxConcurrent = tonumber(ARGV[7])
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
local active = redis.call('SCARD', KEYS[4])

if itemCount > maxPerBatch then
  return {'quota', 'maxItemsPerBatch', maxPerBatch, 0, itemCount, itemCount, used, active}
end
if maxPerMonth >= 0 and used + itemCount > maxPerMonth then
  return {'quota', 'maxItemsPerMonth', maxPerMonth, used, itemCount, itemCount, used, active}
end
if active + 1 > maxConcurrent then
  return {'quota', 'maxConcurrentBatches', maxConcurrent, active, 1, itemCount, used, active}
end

if ARGV[9] == '1' then
  return {'ok', itemCount, used, active, upload or ''}
end

if mode == 'file' then
  redis.call('DEL', KEYS[1])
  -- Concatenated, not re-encoded: cjson would turn the upload's empty arrays into objects.
  redis.call('SET', KEYS[2], '{"batchId":"' .. batchId .. '","upload":' .. upload .. '}', 'EX', tonumber(ARGV[8]))
end

local fields = {}
for i = 11, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
fields[#fields + 1] = 'itemCount'
fields[#fields + 1] = tostring(itemCount)
if mode == 'file' then
  fields[#fields + 1] = 'originalFileName'
  fields[#fields + 1] = cjson.decode(upload)['originalFileName']
end
redis.call('HSET', KEYS[5], unpack(fields))
redis.call('ZADD', KEYS[6], tonumber(ARGV[3]), batchId)
redis.call('INCRBY', KEYS[3], itemCount)
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[10]))
redis.call('SADD', KEYS[4], batchId)
return {'ok', itemCount, used, active, upload or ''}
