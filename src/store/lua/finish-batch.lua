--[[
  Ends a batch once: sets its final status, gives the items never processed back to the monthly
  quota, frees its concurrency slot, and starts its retention clock. A second call is a no-op.

  KEYS[1] batch record hash     (bg:{org}:batch:{batchId})
  KEYS[2] monthly usage counter (bg:{org}:usage:{month the batch was created})
  KEYS[3] active batches set    (bg:{org}:active)

  ARGV[1] final status: 'completed', 'failed' or 'cancelled'
  ARGV[2] completedAt (ISO string)
  ARGV[3] error message ('' for none)
  ARGV[4] retention in seconds
  ARGV[5] batchId

  Returns: {'finished', refunded, final status} or {'already', status}
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'already', 'missing'}
end
if redis.call('HGET', KEYS[1], 'finalized') == '1' then
  return {'already', redis.call('HGET', KEYS[1], 'status')}
end
-- A cancel answered 202 'cancelled': that is how the batch ends, even when its worker then finds
-- the chunk in hand was the last one (it asks for 'completed') or fails it.
local final = ARGV[1]
if redis.call('HGET', KEYS[1], 'status') == 'cancelled' then
  final = 'cancelled'
end
local itemCount = tonumber(redis.call('HGET', KEYS[1], 'itemCount') or '0')
local processed = tonumber(redis.call('HGET', KEYS[1], 'processedCount') or '0')
local refund = itemCount - processed
if final == 'completed' then
  refund = 0
end
if refund > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('DECRBY', KEYS[2], refund)
end
redis.call('HSET', KEYS[1], 'status', final, 'completedAt', ARGV[2], 'finalized', '1')
if ARGV[3] ~= '' and final ~= 'cancelled' then
  redis.call('HSET', KEYS[1], 'error', ARGV[3])
end
redis.call('SREM', KEYS[3], ARGV[5])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {'finished', refund, final}
