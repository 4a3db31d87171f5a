import { Inject, Injectable } from '@nestjs/common';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { AuthContext } from '../auth/auth-context';
import { storageUnavailable } from '../errors/errors';
import type { RowError } from '../common/row-error';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';
import { type UploadRecord } from '../store/upload-record';
import { uploadObjects } from '../store/storage-keys';
import { ERROR_COLUMNS, type LoggedError, csvLine, rawCells } from './rejected-rows-csv';
import { UploadService } from './upload.service';

export interface Page<T> {
  data: T[];
  meta: { offset: number; limit: number; count: number; total: number };
}

/** Reads an upload's stored rows: the full error log, the rejected-rows CSV, the preview. */
@Injectable()
export class UploadReaderService {
  constructor(
    private readonly uploads: UploadService,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
  ) {}

  private async *lines(key: string): AsyncGenerator<string> {
    const stream = this.storage.openRead(key);
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of rl) if (line) yield line;
    } finally {
      rl.close();
      stream.destroy();
    }
  }

  async errors(auth: AuthContext, fileId: string, offset: number, limit: number): Promise<Page<RowError>> {
    const { record } = await this.uploads.find(auth, fileId);
    const data: RowError[] = [];
    if (offset < record.validationErrorCount) {
      let i = 0;
      for await (const line of this.lines(uploadObjects(auth.orgId, fileId).errors)) {
        if (i++ < offset) continue;
        const { raw: _raw, ...error } = JSON.parse(line) as LoggedError;
        data.push(error);
        if (data.length >= limit) break;
      }
    }
    return { data, meta: { offset, limit, count: data.length, total: record.validationErrorCount } };
  }

  /** Resolves the upload first (so 404/410 are answered before any byte is sent), then streams. */
  async errorsCsv(auth: AuthContext, fileId: string): Promise<{ record: UploadRecord; body: Readable }> {
    const { record } = await this.uploads.find(auth, fileId);
    // Checked before the first byte is sent: a lost file must be a 503, not a cut-off download.
    if (!(await this.storage.exists(uploadObjects(auth.orgId, fileId).errors))) throw storageUnavailable();
    return { record, body: Readable.from(this.csvRows(record)) };
  }

  private async *csvRows(record: UploadRecord): AsyncGenerator<string> {
    const fromCsv = record.format === 'csv';
    // JSON rows that were not objects (or not JSON) have no columns of their own: they go whole in `value`.
    const columns = record.errorColumns.length || fromCsv ? record.errorColumns : ['value'];
    yield csvLine([...columns, ...ERROR_COLUMNS]);
    for await (const line of this.lines(uploadObjects(record.orgId, record.fileId).errors)) {
      const e = JSON.parse(line) as LoggedError;
      yield csvLine([...rawCells(e.raw, columns, fromCsv), e.row, e.field ?? '', e.code, e.error]);
    }
  }

  async preview(auth: AuthContext, fileId: string, limit: number) {
    const { record } = await this.uploads.find(auth, fileId);
    const items: { row: number; item: Record<string, unknown> }[] = [];
    for await (const line of this.lines(uploadObjects(auth.orgId, fileId).items)) {
      items.push(JSON.parse(line) as { row: number; item: Record<string, unknown> });
      if (items.length >= limit) break;
    }
    return { items, validationErrors: record.validationErrors };
  }
}
