--[[
  Moves a queued batch to processing (first worker to start it); other statuses are left alone.

  KEYS[1] batch record hash (bg:{org}:batch:{batchId})
  ARGV[1] startedAt (ISO string)

  Returns: the batch's status after the call ('missing' when there is no record)
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return 'missing'
end
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'processing', 'startedAt', ARGV[1])
  return 'processing'
end
return status
