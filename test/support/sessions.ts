import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type TestApp, api } from './app';

export interface CreatedPart {
  partNumber: number;
  url: string;
  method: string;
  sizeBytes: number;
  headers: Record<string, string>;
}

export interface CreatedSession {
  uploadId: string;
  partSize: number;
  partCount: number;
  method: string;
  parts: CreatedPart[];
  urlsExpireAt: string;
  [k: string]: unknown;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** POST /v1/uploads for one file of these bytes; the created session (expects 201). */
export async function startSession(
  t: TestApp,
  key: string,
  bytes: Buffer,
  file: Record<string, unknown> = {},
): Promise<CreatedSession> {
  const res = await api(t, key, 'POST', '/v1/uploads', {
    files: [{ filename: 'data.csv', sizeBytes: bytes.length, ...file }],
  });
  if (res.status !== 201) throw new Error(`POST /v1/uploads: ${res.status} ${res.text}`);
  return res.body.data[0] as CreatedSession;
}

/** The bytes of part `n` of a file cut as the session says. */
export function partBytes(s: { partSize: number }, bytes: Buffer, partNumber: number): Buffer {
  return bytes.subarray((partNumber - 1) * s.partSize, partNumber * s.partSize);
}

/** One PUT to a part URL, as a client sends it (the listed headers, exactly the bytes given). */
export async function putPart(
  part: CreatedPart,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(part.url, {
    method: 'PUT',
    headers: { ...part.headers, 'Content-Length': String(body.length), ...headers },
    body,
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Every part of the file, `parallel` at a time; fails on any answer but 200. */
export async function sendParts(s: CreatedSession, bytes: Buffer, parallel = 4, only?: number[]): Promise<void> {
  const queue = s.parts.filter((p) => !only || only.includes(p.partNumber));
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      const res = await putPart(p, partBytes(s, bytes, p.partNumber));
      if (res.status !== 200) throw new Error(`PUT part ${p.partNumber}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** complete with Prefer: wait (the answer once validation ended, or 202 if it did not within `wait` s). */
export function completeSession(t: TestApp, key: string, uploadId: string, wait = 30, body?: unknown) {
  return api(t, key, 'POST', `/v1/uploads/${uploadId}/complete`, body, wait ? { Prefer: `wait=${wait}` } : {});
}

/** Every file under a local storage directory (the spool aside), relative to it. */
export async function storedFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.spool') await walk(full);
      } else out.push(relative(dir, full));
    }
  };
  await walk(dir);
  return out.sort();
}

/** A CSV of the default schema: `rows` data rows, every `badEvery`-th with an empty content. */
export function csvOf(rows: number, badEvery = 0, pad = 0): Buffer {
  const filler = 'x'.repeat(pad);
  const lines = ['externalId,content'];
  for (let i = 1; i <= rows; i++) {
    lines.push(`id-${i},${badEvery && i % badEvery === 0 ? '' : `row ${i} ${filler}`}`);
  }
  return Buffer.from(lines.join('\n') + '\n');
}
