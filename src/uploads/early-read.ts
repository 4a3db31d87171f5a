import type { Request } from 'express';
import type { Readable } from 'node:stream';
import type { UploadFields } from '../intake/upload-fields';
import type { UploadRecord } from '../store/upload-record';
import { SpoolAbandoned } from './spool-file';

/**
 * The first file part of a direct upload, read (parsed, validated, stored) while it is still
 * arriving, with the form fields that came before it. Once the whole body is in, the upload uses
 * its answer when the fields it read the file with are the request's (`schema`, `format`,
 * `encoding`; `path` only labels the record and is taken then), and drops it otherwise: then the
 * file is read again from its spool file, as it would have been without the early read. Either
 * way the answer is the one a read of the finished spool file gives: the early read sees the same
 * bytes in the same reads (SpoolFile.follow).
 */
export class EarlyRead {
  decided = false;
  private dropped = false;
  private readonly readers = new Set<Readable>();
  private decide!: (path: string | null | false) => void;
  private readonly decision = new Promise<string | null | false>((resolve) => (this.decide = resolve));
  /** The stored record, or undefined when the read failed or was dropped (its objects removed). */
  outcome: Promise<UploadRecord | undefined> = Promise.resolve(undefined);

  constructor(
    /** The part's position in the body. */
    readonly index: number,
    /** The fields the part is read with. */
    readonly fields: UploadFields,
  ) {}

  /** Runs the read: `run` gets a follower of the spool file per open, and the hook that waits for the decision. */
  start(
    follow: () => Readable,
    run: (open: () => Readable, beforeSave: (record: UploadRecord) => Promise<void>) => Promise<UploadRecord>,
  ): void {
    const open = () => {
      const reader = follow();
      this.readers.add(reader);
      reader.once('close', () => this.readers.delete(reader));
      if (this.dropped) reader.destroy(new SpoolAbandoned('the early read was dropped'));
      return reader;
    };
    const beforeSave = async (record: UploadRecord) => {
      const path = await this.decision;
      if (path === false) throw new SpoolAbandoned('the early read was dropped');
      record.path = path;
    };
    this.outcome = run(open, beforeSave).then(
      (record) => record,
      // Whatever failed it (a refusal, a fault, the drop) is found again by the read of the spool file.
      () => undefined,
    );
  }

  /** Whether the request's own fields read the file as this early read does. */
  matches(fields: UploadFields): boolean {
    return (
      fields.schema === this.fields.schema &&
      fields.format === this.fields.format &&
      fields.encoding === this.fields.encoding
    );
  }

  /** The early read's answer is the file's, recorded with this `path`: its record, or undefined if it failed. */
  use(path: string | null): Promise<UploadRecord | undefined> {
    if (!this.decided) {
      this.decided = true;
      this.decide(path);
    }
    return this.outcome;
  }

  /** Drops the read (a no-op once decided) and resolves when what it wrote is gone. */
  async drop(): Promise<void> {
    if (!this.decided) {
      this.decided = true;
      this.dropped = true;
      this.decide(false);
      for (const reader of this.readers) reader.destroy(new SpoolAbandoned('the early read was dropped'));
    }
    await this.outcome;
  }
}

const EARLY = new WeakMap<Request, EarlyRead>();

export function setEarlyRead(req: Request, read: EarlyRead): void {
  EARLY.set(req, read);
}

export function earlyReadOf(req: Request): EarlyRead | undefined {
  return EARLY.get(req);
}
