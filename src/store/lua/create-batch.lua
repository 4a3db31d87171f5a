--[[
  Creates a batch atomically: consumes its uploads (none for direct items, one or several for a
  file batch: all of them or none), checks the plan limits against the organization's counters
  (on the sum of the uploads' items), writes a tombstone per upload and the batch record, and
  reserves the items against the monthly quota. A refused request changes nothing.
  All keys share the organization's hash tag, so this is one slot on Redis Cluster.

  KEYS[1] monthly usage counter     (bg:{org}:usage:{YYYY-MM})
  KEYS[2] active batches set        (bg:{org}:active)
  KEYS[3] batch record hash         (bg:{org}:batch:{batchId})
  KEYS[4] batch index sorted set    (bg:{org}:batches)
  KEYS[5..] for each upload, in the order listed: its metadata key (bg:{org}:upload:{fileId}) and
            its tombstone key (bg:{org}:consumed:{fileId})

  ARGV[1]  source type: 'items', 'file' (one upload) or 'files' (several)
  ARGV[2]  batchId
  ARGV[3]  created-at in ms (index score, and the tombstones' consumedAt)
  ARGV[4]  itemCount for 'items' (ignored otherwise: the sum of the uploads' itemCount)
  ARGV[5]  maxItemsPerBatch
  ARGV[6]  maxItemsPerMonth, or -1 for unlimited
  ARGV[7]  maxConcurrentBatches
  ARGV[8]  tombstone TTL in seconds
  ARGV[9]  '1' for a dry run (check only, change nothing)
  ARGV[10] usage counter TTL in seconds
  ARGV[11..] batch record fields as field, value pairs (itemCount and the uploads' fields are added here)

  Returns:
    {'consumed', i, tombstoneJson}                    the i-th upload (1-based) was already consumed
    {'missing', i}                                    the i-th upload is not live (expired or unknown)
    {'quota', limitName, max, used, requested, itemCount, usedThisMonth, activeBatches}   a plan limit would be passed
    {'ok', itemCount, usedThisMonth, activeBatches, firstUploadJson}   created (or, for a dry run, would be)
  The first listed upload that fails decides the answer.
]]
local sourceType = ARGV[1]
local batchId = ARGV[2]
local n = (#KEYS - 4) / 2
local uploads = {}
local itemCount = tonumber(ARGV[4])

if n > 0 then
  itemCount = 0
  for i = 1, n do
    local tombstone = redis.call('GET', KEYS[4 + 2 * i])
    if tombstone then
      return {'consumed', i, tombstone}
    end
    local upload = redis.call('GET', KEYS[3 + 2 * i])
    if not upload then
      return {'missing', i}
    end
    uploads[i] = upload
    itemCount = itemCount + cjson.decode(upload)['itemCount']
  end
end

local maxPerBatch = tonumber(ARGV[5])
local maxPerMonth = tonumber(ARGV[6])
local maxConcurrent = tonumber(ARGV[7])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local active = redis.call('SCARD', KEYS[2])

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
  return {'ok', itemCount, used, active, uploads[1] or ''}
end

local fields = {}
for i = 11, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
fields[#fields + 1] = 'itemCount'
fields[#fields + 1] = tostring(itemCount)

local files = {}
for i = 1, n do
  redis.call('DEL', KEYS[3 + 2 * i])
  -- Concatenated, not re-encoded: cjson would turn the upload's empty arrays into objects.
  redis.call('SET', KEYS[4 + 2 * i],
    '{"batchId":"' .. batchId .. '","consumedAt":' .. ARGV[3] .. ',"upload":' .. uploads[i] .. '}',
    'EX', tonumber(ARGV[8]))
  local u = cjson.decode(uploads[i])
  files[i] = { fileId = u['fileId'], originalFileName = u['originalFileName'], path = u['path'], itemCount = u['itemCount'] }
end
if n > 0 then
  fields[#fields + 1] = 'originalFileName'
  fields[#fields + 1] = files[1]['originalFileName']
  fields[#fields + 1] = 'files'
  fields[#fields + 1] = cjson.encode(files)
end

redis.call('HSET', KEYS[3], unpack(fields))
redis.call('ZADD', KEYS[4], tonumber(ARGV[3]), batchId)
redis.call('INCRBY', KEYS[1], itemCount)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[10]))
redis.call('SADD', KEYS[2], batchId)
return {'ok', itemCount, used, active, uploads[1] or ''}
