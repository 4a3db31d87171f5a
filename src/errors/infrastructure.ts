const STORAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EIO',
  'ENOSPC',
  'EROFS',
  'EACCES',
  'EPERM',
  'EDQUOT',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EMFILE',
  'ENFILE',
]);
const REDIS_MESSAGES =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|connect ECONNREFUSED/;

/**
 * Errors that mean Redis or file storage is unreachable or failing: 503, never 500 (STYLE.md).
 * ENOENT is here because the service reads only objects its own records point at: a missing one
 * means the storage lost it (a vanished volume), not a bad request. The error's shape is read, not
 * its class: errors from Node's core can come from another realm (jest's vm), where instanceof fails.
 */
export function isInfrastructureError(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (name === 'MaxRetriesPerRequestError') return true;
  // Redis refusing writes: loading, a replica, failed persistence, out of memory, short of replicas.
  if (name === 'ReplyError' && /LOADING|READONLY|MISCONF|OOM|NOREPLICAS/.test(text)) return true;
  if (REDIS_MESSAGES.test(text)) return true;
  return typeof code === 'string' && STORAGE_CODES.has(code);
}
