import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AppConfig, ConfigError } from './config/app-config';
import { SchemaLoadError, SchemaRegistry } from './ingest/schema-registry';

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer in ${ms / 1000} s`)), ms).unref(),
    ),
  ]);
}

async function writableDir(dir: string): Promise<void> {
  const info = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (info && !info.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  if (!info) await mkdir(dir, { recursive: true });
  const probe = join(dir, `.batchgate-start-${process.pid}`);
  await writeFile(probe, '');
  await rm(probe, { force: true });
}

/**
 * Shared by main.ts (api) and worker.ts. What can be checked before Nest starts, so a bad value ends the process with one line naming the
 * variable: the item schemas (compiled here, once) and the storage directory.
 */
export async function preflight(config: AppConfig): Promise<SchemaRegistry> {
  let schemas: SchemaRegistry;
  try {
    schemas = SchemaRegistry.load(config.schemasDir);
  } catch (e) {
    throw new ConfigError(e instanceof SchemaLoadError ? e.message : `SCHEMAS_DIR: ${(e as Error).message}`);
  }
  // With s3 too: the spool of uploads in transit is STORAGE_DIR/.spool.
  if (config.storageDriver !== 'none') {
    try {
      await within(writableDir(config.storageDir), 5000, 'the file system');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      const what = config.storageDriver === 's3' ? ', where uploads in transit are spooled' : '';
      throw new ConfigError(`STORAGE_DIR: ${config.storageDir} is not a writable directory${what} (${why})`);
    }
  }
  return schemas;
}
