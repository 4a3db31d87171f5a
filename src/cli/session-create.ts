import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, resolve } from 'node:path';
import type {
  SessionCreated,
  SessionFileRefusal,
  SessionFileRequest,
  SessionsCreated,
  SignedPartUrl,
} from './api-types';
import { CliExit, EXIT, ServiceError } from './exit';
import type { LocalFile } from './multipart';
import type { FileProgress } from './progress';
import { type FileOutcome, type UploadContext, inRequests, refusalFromEnvelope } from './upload-outcome';

export const sessionPath = (id: string, rest = '') => `/v1/uploads/${encodeURIComponent(id)}${rest}`;

/** A file whose session exists and still has work: parts to send, or a validation to follow. */
export interface Open {
  file: LocalFile;
  uploadId: string;
  partSize: number;
  status: 'pending' | 'validating';
  /** The parts to send, with their URLs (pending only). */
  missing: SignedPartUrl[];
  /** Bytes that arrived before this run (a resumed session). */
  already: number;
}

/** Where a file's upload starts: its open session, or already its outcome (refused at create, ended). */
export type Start = Open | FileOutcome;

/**
 * The file read once for the sha256 its session declares. It cannot be computed while the parts are
 * sent (in parallel, out of order, after the create that must carry it); at ~800 MB/s it costs
 * little next to the service's validation (~25 MB/s), and the service then checks the stored bytes
 * end to end (checksum_mismatch rather than a silently different upload).
 */
async function sha256Of(f: LocalFile, bar: FileProgress, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  let read = 0;
  bar.hashed(0);
  try {
    for await (const chunk of createReadStream(f.path, { highWaterMark: 1024 * 1024, signal })) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).length;
      bar.hashed(read);
    }
  } catch (e) {
    if (signal.aborted) throw new CliExit(EXIT.interrupted, 'Interrupted.');
    throw new CliExit(EXIT.usage, `Cannot read ${f.label}: ${(e as Error).message}`);
  }
  if (read !== f.size) throw new CliExit(EXIT.usage, `${f.label} changed while it was read (${f.size} bytes before).`);
  return hash.digest('hex');
}

function refused(f: LocalFile, r: SessionFileRefusal): FileOutcome {
  return {
    file: f,
    ok: false,
    refusal: {
      originalFileName: basename(f.name),
      path: null,
      status: r.status,
      error: r.error,
      validationErrors: r.validationErrors,
    },
  };
}

/**
 * POST /v1/uploads for these files (one request), each file's state saved for --resume as soon as
 * its session exists (`created` is told of it); a refused file's outcome as the direct upload's.
 */
export async function createSessions(
  files: LocalFile[],
  ctx: UploadContext,
  bar: (f: LocalFile) => FileProgress,
  created: (f: LocalFile, uploadId: string) => void,
): Promise<Map<LocalFile, Start>> {
  const { fields, sessions } = ctx;
  const requests: SessionFileRequest[] = [];
  for (const f of files) {
    requests.push({
      filename: f.name,
      sizeBytes: f.size,
      contentType: f.contentType,
      ...(sessions.checksum && { sha256: await sha256Of(f, bar(f), ctx.signal) }),
      ...(fields.path && { path: fields.path }),
      ...(fields.schema && { schema: fields.schema }),
      ...(fields.format && { format: fields.format }),
      ...(fields.encoding && { encoding: fields.encoding }),
    });
  }
  const entries = await inRequests(files, ctx, (slice, from) =>
    createGroup(slice, requests.slice(from, from + slice.length), ctx, created),
  );
  return new Map(entries);
}

/** One POST /v1/uploads for these files and their requests (at most the plan's maxFilesPerRequest). */
async function createGroup(
  files: LocalFile[],
  requests: SessionFileRequest[],
  { client, sessions }: UploadContext,
  created: (f: LocalFile, uploadId: string) => void,
): Promise<[LocalFile, Start][]> {
  const out = new Map<LocalFile, Start>();
  let answer: SessionsCreated;
  try {
    // A retry after a reset may leave an empty session behind: it holds no bytes and expires.
    answer = (
      await client.json<SessionsCreated>('POST', '/v1/uploads', { json: { files: requests }, idempotent: true })
    ).body;
  } catch (e) {
    if (!(e instanceof ServiceError) || !e.envelope) throw e;
    const listed = e.envelope.error.details?.files;
    if (Array.isArray(listed)) {
      // Every file refused: each refusal is in details.files.
      for (const r of listed as SessionFileRefusal[]) out.set(files[r.index], refused(files[r.index], r));
    } else if (files.length !== 1) throw e; // the request as a whole was refused (401, 402, too many files...)
    for (const f of files) if (!out.has(f)) out.set(f, refusalFromEnvelope(f, e.status, e.envelope, e.message));
    return [...out];
  }
  // `data` lists the created sessions in the order of the files that were not refused.
  const refusedAt = new Map(answer.errors.map((r) => [r.index, r]));
  const sessionsMade = [...answer.data];
  for (const [i, f] of files.entries()) {
    const r = refusedAt.get(i);
    if (r) {
      out.set(f, refused(f, r));
      continue;
    }
    const s: SessionCreated | undefined = sessionsMade.shift();
    if (!s) throw new Error(`The service's answer has no session for file ${i} (${f.label}).`);
    await sessions.states.save({
      uploadId: s.uploadId,
      file: resolve(f.path),
      sizeBytes: f.size,
      mtimeMs: f.mtimeMs,
      partSize: s.partSize,
      partCount: s.partCount,
      sha256: requests[i].sha256 ?? null,
      createdAt: new Date().toISOString(),
      expiresAt: s.expiresAt,
    });
    created(f, s.uploadId);
    out.set(f, {
      file: f,
      uploadId: s.uploadId,
      partSize: s.partSize,
      status: 'pending',
      missing: s.parts,
      already: 0,
    });
  }
  return [...out];
}
