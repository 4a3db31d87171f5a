import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Readable } from 'node:stream';
import type { AuthContext } from '../auth/auth-context';
import { looksLikeId, newId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import {
  signatureInvalid,
  sizeMismatch,
  storageUnavailable,
  uploadExpired,
  uploadIncomplete,
  uploadNotFound,
  uploadState,
} from '../errors/errors';
import { SchemaRegistry } from '../ingest/schema-registry';
import { IntakeService } from '../intake/intake.service';
import { everyFileRefused } from '../intake/upload-view';
import { filesPerRequest } from '../plans/plans';
import { VALIDATION_QUEUE, type ValidationJobData, validationJobOptions } from '../queue/validation-queue';
import { FILE_STORAGE, type FileStorage, PutSizeError } from '../storage/file-storage';
import { FileTokenRepository } from '../store/file-token.repository';
import { storedSessionParts } from '../store/session-parts';
import { storageKeys } from '../store/storage-keys';
import { type SessionMeta, type SessionState, partSizeOf } from '../store/upload-session-record';
import { UploadSessionRepository } from '../store/upload-session.repository';
import { planParts } from './part-plan';
import { signPart, verifyPart } from './part-signature';
import {
  type SessionFileRefusal,
  type SessionFileSpec,
  completedParts,
  refusal,
  requestedParts,
  sessionFile,
  sessionFiles,
} from './session-request';
import { type SessionCreated, type SessionView, type SignedPartUrl, allParts, toSessionView } from './session-view';

/** How often `Prefer: wait` looks at the session again. */
const WAIT_POLL_MS = 200;

export interface PartQuery {
  org?: unknown;
  expires?: unknown;
  signature?: unknown;
}

/**
 * Upload sessions (API.md, "Upload sessions"): signed part URLs, the parts received, complete (which
 * hands the stored bytes to the workers' `validations` queue), cancel. The same protocol on every
 * driver: the s3 driver's URLs are the store's presigned PUTs, the local driver's point at
 * `PUT /v1/uploads/{id}/parts/{n}` here, signed with HMAC-SHA256 under a key every api shares.
 */
@Injectable()
export class UploadSessionsService {
  private readonly logger = new Logger(UploadSessionsService.name);
  private secret?: Promise<string>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(VALIDATION_QUEUE) private readonly queue: Queue<ValidationJobData>,
    private readonly sessions: UploadSessionRepository,
    private readonly tokens: FileTokenRepository,
    private readonly schemas: SchemaRegistry,
    private readonly intake: IntakeService,
  ) {}

  /** PUBLIC_URL, when set: the base of the local driver's part URLs. */
  get publicUrl(): string | undefined {
    return this.config.publicUrl;
  }

  /** The local part route takes bytes only where batchgate has storage of its own to put them. */
  get takesParts(): boolean {
    return this.storage.configured;
  }

  async create(
    auth: AuthContext,
    body: unknown,
    baseUrl: string,
  ): Promise<{ data: SessionCreated[]; errors: SessionFileRefusal[] }> {
    const files = sessionFiles(body, filesPerRequest(auth.plan));
    const specs: SessionFileSpec[] = [];
    const errors: SessionFileRefusal[] = [];
    files.forEach((raw, index) => {
      try {
        specs.push(sessionFile(raw, index, this.schemas, auth.plan.maxFileBytes));
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        errors.push(refusal(raw, index, e));
      }
    });
    if (specs.length === 0) throw everyFileRefused(errors);
    const data: SessionCreated[] = [];
    for (const spec of specs) data.push(await this.createOne(auth, spec, baseUrl));
    return { data, errors };
  }

  private async createOne(auth: AuthContext, spec: SessionFileSpec, baseUrl: string): Promise<SessionCreated> {
    const now = Date.now();
    const plan = planParts(spec.sizeBytes);
    const expiresAtMs = now + this.config.uploadSessionTtlSeconds * 1000;
    const meta: SessionMeta = {
      uploadId: newId('u'),
      orgId: auth.orgId,
      filename: spec.filename,
      path: spec.path,
      sizeBytes: spec.sizeBytes,
      ...(spec.contentType !== undefined && { contentType: spec.contentType }),
      ...(spec.sha256 !== undefined && { sha256: spec.sha256 }),
      schema: spec.fields.schema.name,
      ...(spec.fields.format !== undefined && { format: spec.fields.format }),
      ...(spec.fields.encoding !== undefined && { encoding: spec.fields.encoding }),
      ...plan,
      maxFileBytes: auth.plan.maxFileBytes,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(expiresAtMs).toISOString(),
    };
    const urlsExpireAtMs = this.urlExpiry(meta, now);
    await this.sessions.create(meta, urlsExpireAtMs);
    const numbers = Array.from({ length: plan.partCount }, (_, i) => i + 1);
    const duplicateOf = spec.sha256 ? await this.tokens.findDuplicate(auth.orgId, meta.schema, spec.sha256) : null;
    return {
      index: spec.index,
      uploadId: meta.uploadId,
      status: 'pending',
      filename: meta.filename,
      path: meta.path,
      sizeBytes: meta.sizeBytes,
      method: meta.method,
      partSize: meta.partSize,
      partCount: meta.partCount,
      parts: await this.signParts(meta, numbers, urlsExpireAtMs, baseUrl),
      urlsExpireAt: new Date(urlsExpireAtMs).toISOString(),
      expiresAt: meta.expiresAt,
      duplicateOf,
    };
  }

  /**
   * Part URLs never outlive the session. A whole second, as signatures carry: so the URLs stop
   * working exactly at urlsExpireAt. Before, urlsExpireAt had milliseconds and the signed second
   * was rounded down from it, so a URL died up to a second before the time the client was told.
   */
  private urlExpiry(meta: SessionMeta, now: number): number {
    return Math.min(Math.floor(now / 1000 + this.config.uploadUrlTtlSeconds) * 1000, Date.parse(meta.expiresAt));
  }

  private signingSecret(): Promise<string> {
    if (this.config.uploadSigningSecret) return Promise.resolve(this.config.uploadSigningSecret);
    // Asked of Redis once per process; a failure is not kept, so the next request asks again.
    this.secret ??= this.sessions.signingSecret().catch((e: unknown) => {
      this.secret = undefined;
      throw e;
    });
    return this.secret;
  }

  private async signParts(
    meta: SessionMeta,
    numbers: number[],
    expiresAtMs: number,
    baseUrl: string,
  ): Promise<SignedPartUrl[]> {
    // urlsExpireAt is a whole second unless the session ends first (rounded up then: a local PUT
    // checks the session too). A presigned URL counts from the whole second it is signed in.
    const expires = Math.ceil(expiresAtMs / 1000);
    const expiresIn = Math.max(1, expires - Math.floor(Date.now() / 1000));
    const secret = this.storage.signedPutUrl ? undefined : await this.signingSecret();
    const parts: SignedPartUrl[] = [];
    for (const partNumber of numbers) {
      const sizeBytes = partSizeOf(meta, partNumber);
      let url: string;
      if (this.storage.signedPutUrl) {
        url = await this.storage.signedPutUrl(
          storageKeys.sessionPart(meta.orgId, meta.uploadId, partNumber),
          sizeBytes,
          expiresIn,
        );
      } else {
        const signature = signPart(secret!, {
          orgId: meta.orgId,
          uploadId: meta.uploadId,
          partNumber,
          sizeBytes,
          expires,
        });
        const query = new URLSearchParams({ org: meta.orgId, expires: String(expires), signature });
        url = `${baseUrl}/v1/uploads/${meta.uploadId}/parts/${partNumber}?${query.toString()}`;
      }
      parts.push({ partNumber, url, method: 'PUT', sizeBytes, headers: { 'Content-Length': String(sizeBytes) } });
    }
    return parts;
  }

  /** The session, or API.md's answer for one that is not there: 404 (unknown, cancelled, another org's), 410 (expired). */
  private async require(orgId: string, uploadId: string): Promise<SessionState> {
    if (!looksLikeId(uploadId, 'u')) throw uploadNotFound(uploadId);
    const s = await this.sessions.get(orgId, uploadId);
    if (!s || s.status === 'cancelled') throw uploadNotFound(uploadId);
    if (s.status === 'expired' || (s.status === 'pending' && Date.now() >= Date.parse(s.meta.expiresAt))) {
      throw uploadExpired(uploadId);
    }
    return s;
  }

  private async view(s: SessionState): Promise<SessionView> {
    if (s.status !== 'pending') return toSessionView(s, allParts(s.meta));
    const stored = await storedSessionParts(this.storage, s.meta);
    const received = [...stored.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, sizeBytes]) => ({ partNumber, sizeBytes }));
    return toSessionView(s, received);
  }

  async get(auth: AuthContext, uploadId: string): Promise<SessionView> {
    return this.view(await this.require(auth.orgId, uploadId));
  }

  async parts(
    auth: AuthContext,
    uploadId: string,
    body: unknown,
    baseUrl: string,
  ): Promise<{ parts: SignedPartUrl[]; urlsExpireAt: string }> {
    const s = await this.require(auth.orgId, uploadId);
    if (s.status !== 'pending') throw uploadState(s.status, 'new part URLs are given');
    let numbers = requestedParts(body, s.meta.partCount);
    if (!numbers) {
      const stored = await storedSessionParts(this.storage, s.meta);
      numbers = allParts(s.meta)
        .filter((p) => stored.get(p.partNumber) !== p.sizeBytes)
        .map((p) => p.partNumber);
    }
    const untilMs = this.urlExpiry(s.meta, Date.now());
    const reply = await this.sessions.extendUrls(auth.orgId, uploadId, untilMs);
    if (reply !== 'ok') throw uploadState(reply, 'new part URLs are given');
    return {
      parts: await this.signParts(s.meta, numbers, untilMs, baseUrl),
      urlsExpireAt: new Date(untilMs).toISOString(),
    };
  }

  /**
   * Checks that every part arrived in full, then hands the session to the workers: 202 (validating),
   * or with `waitSeconds` the final state when validation ends by then (200). Again on a session
   * past pending: its current state.
   */
  async complete(
    auth: AuthContext,
    uploadId: string,
    body: unknown,
    waitSeconds: number,
  ): Promise<{ status: 200 | 202; view: SessionView }> {
    let s = await this.require(auth.orgId, uploadId);
    completedParts(body, s.meta.partCount);
    if (s.status === 'pending') {
      const stored = await storedSessionParts(this.storage, s.meta);
      // Missing or short: sent again, they replace what is there. Longer (a store that did not hold
      // the signed size): the validation finds the file's size wrong and says so (size_mismatch).
      const missingParts = allParts(s.meta)
        .filter((p) => (stored.get(p.partNumber) ?? -1) < p.sizeBytes)
        .map((p) => p.partNumber);
      if (missingParts.length) throw uploadIncomplete(missingParts);
      const after = await this.sessions.complete(auth.orgId, uploadId);
      if (after === 'expired') throw uploadExpired(uploadId);
      if (after === 'missing' || after === 'cancelled') throw uploadNotFound(uploadId);
      // The sweep looks again in an hour: a validation still running then is enqueued again.
      await this.sessions.schedule(auth.orgId, uploadId, Date.now() + 3600_000);
    }
    s = await this.require(auth.orgId, uploadId);
    // Also when complete is called again: a job lost between the transition and the queue is added
    // now (the job id is the session's, so a job still there is not doubled).
    if (s.status === 'validating') await this.enqueue(auth.orgId, uploadId);
    if (waitSeconds > 0 && s.status === 'validating') {
      const deadline = Date.now() + waitSeconds * 1000;
      while (s.status === 'validating' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, Math.max(1, deadline - Date.now()))));
        s = await this.require(auth.orgId, uploadId);
      }
    }
    return { status: s.status === 'validating' ? 202 : 200, view: await this.view(s) };
  }

  private async enqueue(orgId: string, uploadId: string): Promise<void> {
    try {
      await this.queue.add('validate', { orgId, uploadId }, validationJobOptions(uploadId));
    } catch (e) {
      this.logger.warn(`enqueue of ${uploadId} failed: ${(e as Error).message}`);
      throw storageUnavailable();
    }
  }

  /** DELETE: pending and failed sessions are cancelled and their parts deleted; validating stops; ready as a discard. */
  async cancel(auth: AuthContext, uploadId: string): Promise<void> {
    const s = await this.require(auth.orgId, uploadId);
    let [after, fileId] = await this.sessions.cancel(auth.orgId, uploadId);
    if (after === 'ready') {
      // As DELETE /v1/batch/upload/{fileId}: 409 once consumed (the session then stays ready).
      await this.intake.discard(auth.orgId, fileId);
      [after, fileId] = await this.sessions.cancel(auth.orgId, uploadId, true);
    }
    if (after === 'expired') throw uploadExpired(uploadId);
    if (after !== 'cancelled') throw uploadNotFound(uploadId);
    await this.storage.deletePrefix(storageKeys.sessionParts(auth.orgId, uploadId));
    // A validation that was running stops at its next progress write and drops what it wrote; the
    // sweep looks again at every pass until any part URL handed out has expired, for what a PUT still
    // on its way (or a late one) leaves.
    if (fileId && s.status !== 'ready') await this.intake.deleteObjects(auth.orgId, fileId);
    await this.sessions.lookAgain(auth.orgId, uploadId, Math.max(Date.now(), s.urlsExpireAtMs));
  }

  /**
   * PUT /v1/uploads/{id}/parts/{n} (local driver): the signature is the credential. Exactly the
   * part's size is stored, streamed, replacing an earlier copy; anything else is refused, nothing kept.
   */
  async putPart(
    uploadId: string,
    partParam: string,
    query: PartQuery,
    contentLength: string | undefined,
    body: Readable,
  ): Promise<{ etag: string; partNumber: number; sizeBytes: number }> {
    const orgId = typeof query.org === 'string' ? query.org : '';
    const expires = typeof query.expires === 'string' && /^\d{1,12}$/.test(query.expires) ? Number(query.expires) : NaN;
    const signature = typeof query.signature === 'string' ? query.signature : '';
    const partNumber = /^\d{1,5}$/.test(partParam) ? Number(partParam) : NaN;
    if (
      !orgId ||
      !signature ||
      !Number.isFinite(expires) ||
      !Number.isFinite(partNumber) ||
      !looksLikeId(uploadId, 'u')
    ) {
      throw signatureInvalid('invalid');
    }
    const s = await this.sessions.get(orgId, uploadId);
    // Without the session there is no size to check the signature against: the URL cannot be one we signed.
    if (!s || partNumber < 1 || partNumber > s.meta.partCount) throw signatureInvalid('invalid');
    const sizeBytes = partSizeOf(s.meta, partNumber);
    const verdict = verifyPart(
      await this.signingSecret(),
      { orgId, uploadId, partNumber, sizeBytes, expires },
      signature,
      Date.now(),
    );
    if (verdict !== 'ok') throw signatureInvalid(verdict);
    if (s.status === 'cancelled') throw uploadNotFound(uploadId);
    if (s.status === 'expired' || (s.status === 'pending' && Date.now() >= Date.parse(s.meta.expiresAt))) {
      throw uploadExpired(uploadId);
    }
    if (s.status !== 'pending') throw uploadState(s.status, 'parts are taken');
    if (contentLength !== undefined && Number(contentLength) !== sizeBytes) {
      throw sizeMismatch(sizeBytes, Number(contentLength), `Part ${partNumber}`);
    }
    try {
      const { etag } = await this.storage.putStream(
        storageKeys.sessionPart(orgId, uploadId, partNumber),
        body,
        sizeBytes,
      );
      return { etag, partNumber, sizeBytes };
    } catch (e) {
      if (e instanceof PutSizeError) throw sizeMismatch(sizeBytes, e.actual, `Part ${partNumber}`);
      // The session moved on while the bytes came (completed and validated, or cancelled, its parts
      // deleted under this write): that is the answer, not storage trouble.
      const now = await this.sessions.get(orgId, uploadId).catch(() => 'unreadable' as const);
      if (now === 'unreadable') throw e;
      if (!now || now.status === 'cancelled') throw uploadNotFound(uploadId);
      if (now.status === 'expired') throw uploadExpired(uploadId);
      if (now.status !== 'pending') throw uploadState(now.status, 'parts are taken');
      throw e;
    }
  }
}
