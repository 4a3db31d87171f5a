/** Errors that mean Redis or file storage is unreachable or failing: 503, never 500 (STYLE.md). */
export function isInfrastructureError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const name = e.name;
  const code = (e as { code?: unknown }).code;
  if (name === 'MaxRetriesPerRequestError' || (name === 'ReplyError' && /LOADING|READONLY|MISCONF|OOM/.test(e.message)))
    return true;
  if (
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|connect ECONNREFUSED/.test(
      e.message,
    )
  ) {
    return true;
  }
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EIO', 'ENOSPC', 'EROFS', 'EACCES', 'EDQUOT'].includes(code)
  );
}
