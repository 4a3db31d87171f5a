--[[
  Every change of an upload session's state, so that each is atomic with respect to the others
  (two `complete` calls start one validation; a DELETE and the worker's finish never both win).

  KEYS[1] the session hash (bg:{org}:session:{uploadId})
  ARGV[1] the operation, ARGV[2] now (ms), then per operation:
    complete                      pending → validating: 'started' (refused past expiresAt: 'expired')
    claim    fileId run           a validation run starts: records its fileId and run; replies the previous fileId
    progress run json             the run's progress, while it is still the session's run
    finish   run status field json ttl   validating → ready|failed with result|error (and the progress in ARGV[7])
    cancel   allowReady           pending|validating|failed (and ready when allowReady = '1') → cancelled
    expire                        pending past expiresAt → expired
    urls     untilMs              a later part URL expiry was handed out

  Replies {status-after-or-refusal, extra}: the operation's outcome, or the current status when the
  session is not in a state that allows it ('missing' when the hash is gone).
]]
local key = KEYS[1]
local op = ARGV[1]
local now = tonumber(ARGV[2])
local status = redis.call('HGET', key, 'status')
if not status then
  return {'missing', ''}
end
local function past_expiry()
  return status == 'pending' and now >= tonumber(redis.call('HGET', key, 'expiresAtMs'))
end

if op == 'complete' then
  if past_expiry() then return {'expired', ''} end
  if status ~= 'pending' then return {status, ''} end
  redis.call('HSET', key, 'status', 'validating', 'completedAtMs', now)
  return {'started', ''}
elseif op == 'claim' then
  if status ~= 'validating' then return {status, ''} end
  local previous = redis.call('HGET', key, 'fileId') or ''
  redis.call('HSET', key, 'fileId', ARGV[3], 'run', ARGV[4])
  return {'claimed', previous}
elseif op == 'progress' then
  if status ~= 'validating' then return {status, ''} end
  if redis.call('HGET', key, 'run') ~= ARGV[3] then return {'stale', ''} end
  redis.call('HSET', key, 'progress', ARGV[4])
  return {'ok', ''}
elseif op == 'finish' then
  if status ~= 'validating' then return {status, ''} end
  if redis.call('HGET', key, 'run') ~= ARGV[3] then return {'stale', ''} end
  redis.call('HSET', key, 'status', ARGV[4], ARGV[5], ARGV[6], 'progress', ARGV[7], 'endedAtMs', now)
  local ttl = tonumber(ARGV[8])
  if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
  return {ARGV[4], ''}
elseif op == 'cancel' then
  if past_expiry() then return {'expired', ''} end
  if status == 'ready' and ARGV[3] ~= '1' then return {'ready', redis.call('HGET', key, 'fileId') or ''} end
  if status == 'cancelled' or status == 'expired' then return {status, ''} end
  redis.call('HSET', key, 'status', 'cancelled', 'endedAtMs', now)
  return {'cancelled', redis.call('HGET', key, 'fileId') or ''}
elseif op == 'expire' then
  if not past_expiry() then return {status, ''} end
  redis.call('HSET', key, 'status', 'expired', 'endedAtMs', now)
  return {'expired', ''}
elseif op == 'urls' then
  if status ~= 'pending' then return {status, ''} end
  if tonumber(redis.call('HGET', key, 'urlsExpireAtMs')) < tonumber(ARGV[3]) then
    redis.call('HSET', key, 'urlsExpireAtMs', ARGV[3])
  end
  return {'ok', ''}
end
return redis.error_reply('unknown session operation ' .. op)
