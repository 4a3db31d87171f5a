import { Global, Logger, Module } from '@nestjs/common';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig, ConfigError } from '../config/app-config';
import { FILE_STORAGE, type FileStorage } from './file-storage';
import { LocalFileStorage, NoFileStorage } from './local-file-storage';
import { S3FileStorage } from './s3-file-storage';

async function s3Storage(config: AppConfig): Promise<FileStorage> {
  const storage = new S3FileStorage(config.s3!, join(config.storageDir, '.spool'));
  await storage.init();
  const logger = new Logger('storage');
  try {
    if (!(await storage.streamedWriteReadsBack())) {
      throw new ConfigError(
        `S3_ENDPOINT: a streamed write to bucket ${config.s3!.bucket} did not read back byte for byte (the store kept the upload's chunk framing?)`,
      );
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // Unreachable or no bucket yet: serve anyway; uploads answer 503 and /ready names storage until it answers.
    logger.warn(`S3 storage not available at start: ${(e as Error).message}`);
  }
  return storage;
}

@Global()
@Module({
  providers: [
    {
      provide: FILE_STORAGE,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<FileStorage> => {
        if (config.storageDriver === 'none') return new NoFileStorage();
        if (config.storageDriver === 's3') return s3Storage(config);
        const storage = new LocalFileStorage(config.storageDir);
        await storage.init();
        return storage;
      },
    },
  ],
  exports: [FILE_STORAGE],
})
export class StorageModule {}
