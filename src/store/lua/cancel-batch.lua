--[[
  Cancels a batch that has not ended: its status becomes 'cancelled' at once; the worker stops
  between chunks and finishes it (finish-batch.lua gives the unprocessed items back).

  KEYS[1] batch record hash (bg:{org}:batch:{batchId})

  Returns: {'missing'} | {'finished', status} | {'cancelled', previousStatus}
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {'missing'}
end
if status == 'completed' or status == 'failed' or status == 'cancelled' then
  return {'finished', status}
end
redis.call('HSET', KEYS[1], 'status', 'cancelled')
return {'cancelled', status}
