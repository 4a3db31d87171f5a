import { AppError } from '../errors/app-error';

const MAX_PATH = 512;

/**
 * API.md's `path`: a label for where a file belongs, a relative POSIX path of 1 to 512 characters
 * with no leading '/', no '\', no empty, '.' or '..' segment and no control characters. It never
 * becomes a storage location. Returns the reason it is refused, or undefined when it is good.
 */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0 || path.length > MAX_PATH) return `must be 1 to ${MAX_PATH} characters`;
  if (path.startsWith('/')) return 'must be relative (no leading "/")';
  if (path.includes('\\')) return 'must use "/" between segments, not "\\"';
  for (const c of path) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) return 'must not hold control characters';
  }
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    return 'must not have an empty, "." or ".." segment';
  }
  return undefined;
}

export function badPath(path: string, why: string): AppError {
  return new AppError('validation_error', `"path" ${why}.`, { field: 'path', path: path.slice(0, 600) });
}

/** The path given, or 400 validation_error naming `path`. */
export function checkedPath(path: string): string {
  const why = pathProblem(path);
  if (why) throw badPath(path, why);
  return path;
}

/** A part's filename as browsers send a folder's files (`jan/claims.csv`): its name and its path. */
export function splitFileName(name: string): { originalFileName: string; path: string | null } {
  const slash = name.lastIndexOf('/');
  if (slash === -1 && !name.includes('\\')) return { originalFileName: name, path: null };
  const base = name.slice(Math.max(slash, name.lastIndexOf('\\')) + 1);
  return { originalFileName: base || name, path: name };
}
