import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { IntakeService } from '../intake/intake.service';
import { VALIDATION_QUEUE, type ValidationJobData, validationJobOptions } from '../queue/validation-queue';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';
import { storageKeys } from '../store/storage-keys';
import { UploadSessionRepository } from '../store/upload-session.repository';

const BATCH = 200;
/** A session still validating is looked at this often: its job is added again if it went missing. */
const VALIDATING_RECHECK_MS = 3600_000;

/**
 * Upload sessions' housekeeping: sessions never completed expire (410) and their parts go; the raw
 * parts of every ended session go (also what a late PUT to a store's presigned URL left, looked for
 * once the last URL expired); a validating session whose job was lost is enqueued again. Any number
 * of workers may run it: each step is idempotent.
 */
@Injectable()
export class SessionSweeper {
  private readonly logger = new Logger(SessionSweeper.name);

  constructor(
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(VALIDATION_QUEUE) private readonly queue: Queue<ValidationJobData>,
    private readonly sessions: UploadSessionRepository,
    private readonly intake: IntakeService,
  ) {}

  /** One pass; how many sessions were expired. */
  async sweep(now = Date.now()): Promise<number> {
    if (!this.storage.configured) return 0;
    let expired = 0;
    for (const { orgId, uploadId } of await this.sessions.due(now, BATCH)) {
      const parts = storageKeys.sessionParts(orgId, uploadId);
      const s = await this.sessions.get(orgId, uploadId);
      if (!s) {
        await this.storage.deletePrefix(parts);
        await this.sessions.forget(orgId, uploadId);
        continue;
      }
      let status = s.status;
      if (status === 'pending') {
        status = (await this.sessions.expire(orgId, uploadId)) as typeof status;
        if (status === 'pending') {
          await this.sessions.schedule(orgId, uploadId, Date.parse(s.meta.expiresAt));
          continue;
        }
        if (status === 'expired') {
          expired++;
          this.logger.log(`upload session ${uploadId} expired before it was completed: its parts are deleted`);
        }
      }
      if (status === 'validating') {
        if (!(await this.queue.getJob(uploadId))) {
          this.logger.log(`re-enqueueing the validation of ${uploadId} (its job was missing)`);
          await this.queue.add('validate', { orgId, uploadId }, validationJobOptions(uploadId));
        }
        await this.sessions.schedule(orgId, uploadId, now + VALIDATING_RECHECK_MS);
        continue;
      }
      await this.storage.deletePrefix(parts);
      // A run cancelled mid-way may have written objects under its fileId after the DELETE removed them.
      if (status === 'cancelled' && s.fileId) await this.intake.deleteObjects(orgId, s.fileId);
      await this.sessions.lookAgain(orgId, uploadId, s.urlsExpireAtMs, now);
    }
    return expired;
  }
}
