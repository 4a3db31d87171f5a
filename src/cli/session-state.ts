import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * What `--resume` needs to find an interrupted upload session again: one small JSON file per
 * upload in the user's state directory, written when the session is created and removed when it
 * ends (ready, failed or cancelled). A file that changed since (size or mtime) is not resumed.
 */
export interface SavedSession {
  version: 1;
  /** The service's base URL the session lives on. */
  service: string;
  uploadId: string;
  /** The file's absolute path. */
  file: string;
  sizeBytes: number;
  mtimeMs: number;
  partSize: number;
  partCount: number;
  sha256: string | null;
  createdAt: string;
  expiresAt: string;
}

/** $XDG_STATE_HOME/batchgate/uploads, else ~/.local/state/batchgate/uploads (XDG base directories). */
export function stateDir(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'batchgate', 'uploads');
}

export class SessionStates {
  constructor(
    private readonly dir: string,
    private readonly service: string,
  ) {}

  /** One name per service and absolute path: the same file sent to two services has two. */
  pathOf(file: string): string {
    const key = createHash('sha256')
      .update(`${this.service}\n${resolve(file)}`)
      .digest('hex')
      .slice(0, 32);
    return join(this.dir, `${key}.json`);
  }

  async find(file: string): Promise<SavedSession | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(file), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const saved = JSON.parse(text) as SavedSession;
      // Anything else (another version, a hand-edited file) is not ours to resume.
      return saved?.version === 1 && typeof saved.uploadId === 'string' && saved.file === resolve(file)
        ? saved
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Written whole or not at all (a rename), readable by the user only. */
  async save(s: Omit<SavedSession, 'version' | 'service'>): Promise<void> {
    const target = this.pathOf(s.file);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ version: 1, service: this.service, ...s }, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, target);
  }

  async remove(file: string): Promise<void> {
    await unlink(this.pathOf(file)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}
