import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';
import { FileTokenRepository } from '../store/file-token.repository';
import { uploadObjects } from '../store/storage-keys';

const BATCH = 200;
/** A spool file older than this belongs to no request still running. */
const SPOOL_MAX_AGE_MS = 6 * 3600 * 1000;

/**
 * Deletes the stored objects of uploads that expired unconsumed, and spool files left by a crash.
 * Any number of api processes may run it: deleting a file twice is harmless.
 */
@Injectable()
export class UploadSweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UploadSweeperService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: FileTokenRepository,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.storage.configured) return;
    this.timer = setInterval(
      () => void this.sweep().catch((e: Error) => this.logger.warn(`sweep failed: ${e.message}`)),
      this.config.sweepIntervalMs,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns how many expired uploads had their objects deleted. */
  async sweep(now = Date.now()): Promise<number> {
    let deleted = 0;
    for (const member of await this.tokens.expiredUploads(now, BATCH)) {
      const [orgId, fileId] = member.split('/');
      if (await this.tokens.stillNeeded(orgId, fileId)) {
        // Consumed: the batch owns the objects now. Still live (clock skew): look again next time.
        if (await this.tokens.isConsumed(orgId, fileId)) await this.tokens.forgetExpiry(member);
        continue;
      }
      const objects = uploadObjects(orgId, fileId);
      await Promise.all([this.storage.delete(objects.items), this.storage.delete(objects.errors)]);
      await this.tokens.forgetExpiry(member);
      deleted++;
    }
    await this.storage.sweepSpool(SPOOL_MAX_AGE_MS);
    return deleted;
  }
}
