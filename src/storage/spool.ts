import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Deletes files in `dir` older than `maxAgeMs` (spooled request bodies left by a crash); how many went. */
export async function sweepOldFiles(dir: string, maxAgeMs: number): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > maxAgeMs) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}
