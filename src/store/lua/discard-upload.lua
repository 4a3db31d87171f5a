--[[
  Discards an unconsumed upload, atomically with respect to a concurrent consumption.

  KEYS[1] upload metadata key        (bg:{org}:upload:{fileId})
  KEYS[2] consumed tombstone key     (bg:{org}:consumed:{fileId})
  KEYS[3] upload trace key           (bg:{org}:upload-trace:{fileId})
  ARGV[1] trace TTL in seconds       (how long "discarded" is remembered)

  Returns:
    {'consumed', tombstoneJson}  already consumed: nothing changed
    {'missing'}                  no live upload (expired or unknown; the caller reads the trace)
    {'discarded'}                the upload is gone and its trace says so
]]
local tombstone = redis.call('GET', KEYS[2])
if tombstone then
  return {'consumed', tombstone}
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'missing'}
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[3], 'discarded', 'EX', tonumber(ARGV[1]))
return {'discarded'}
