import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CliExit, EXIT } from './exit';
import type { BodySource } from './http-client';

/** A file on disk as the CLI sends it. */
export interface LocalFile {
  /** Where it is read from. */
  path: string;
  /** The part's filename: the base name, or `folder/name` when it carries a path (API.md, "Several files"). */
  name: string;
  /** The name people see in progress lines and tables (the path as given on the command line). */
  label: string;
  size: number;
  /** When it was last changed, as `stat` saw it before the upload (a resumed session checks it). */
  mtimeMs: number;
  contentType: string;
}

const TYPES: Record<string, string> = {
  csv: 'text/csv',
  tsv: 'text/csv',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  jsonl: 'application/x-ndjson',
  gz: 'application/gzip',
};

export function contentTypeOf(name: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  return TYPES[ext] ?? 'application/octet-stream';
}

/** A header parameter's value as browsers write it (WHATWG multipart/form-data encoding). */
const quoted = (s: string) => s.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');

/**
 * A multipart/form-data body: the text fields, then each file read from disk as it is sent (never
 * held in memory), with its exact Content-Length. `onBytes(i, n)` reports how much of file `i` has
 * been handed to the socket (the socket's backpressure paces the reads).
 */
export function multipartBody(
  fields: [string, string][],
  files: LocalFile[],
  onBytes: (index: number, sent: number) => void,
): BodySource {
  const boundary = `----batchgate-cli-${randomBytes(12).toString('hex')}`;
  const enc = (s: string) => Buffer.from(s, 'utf8');
  const fieldParts = fields.map(([name, value]) =>
    enc(`--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`),
  );
  const heads = files.map((f) =>
    enc(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(f.name)}"\r\n` +
        `Content-Type: ${f.contentType}\r\n\r\n`,
    ),
  );
  const crlf = enc('\r\n');
  const tail = enc(`--${boundary}--\r\n`);
  const length =
    fieldParts.reduce((n, b) => n + b.length, 0) +
    heads.reduce((n, b) => n + b.length, 0) +
    files.reduce((n, f) => n + f.size + crlf.length, 0) +
    tail.length;

  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    yield* fieldParts;
    for (const [i, f] of files.entries()) {
      yield heads[i];
      let sent = 0;
      for await (const chunk of createReadStream(f.path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
        sent += chunk.length;
        if (sent > f.size) break;
        yield chunk;
        onBytes(i, sent);
      }
      if (sent !== f.size) {
        throw new CliExit(
          EXIT.usage,
          `${f.label} changed while it was being sent (${f.size} bytes when the upload began).`,
        );
      }
      yield crlf;
    }
    yield tail;
  }

  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    chunks,
  };
}
