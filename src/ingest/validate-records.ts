import type { RowError } from '../common/row-error';
import { ErrorCollector } from './error-collector';
import { msg } from './messages';
import { RowValidator } from './row-validator';
import type { ItemSchema } from './schema-registry';
import type { SourceRecord } from './source-record';
import { IngestError, type IngestSink, type IngestSummary } from './types';

const MAX_ERROR_COLUMNS = 500;

export type ValidationCounts = Pick<
  IngestSummary,
  'itemCount' | 'validationErrorCount' | 'validationErrors' | 'validationErrorsTruncated' | 'errorSummary'
>;

/**
 * The one row loop of batchgate: every row of a file, and every direct item of POST /v1/batch, is
 * validated here. Valid rows go to `sink.item`, rejected ones to `sink.rejected` with their raw value;
 * when no row is valid the whole input fails with `file_parsing_failed` and the sentence `noneValid`
 * gives (rows read, rows rejected). `coerce` is for CSV cells, which are all strings.
 */
export async function validateRecords(
  records: AsyncIterable<SourceRecord[]>,
  schema: ItemSchema,
  coerce: boolean,
  sink: IngestSink,
  errorColumns: string[],
  noneValid: (rows: number, errors: number) => string,
): Promise<ValidationCounts> {
  const validator = new RowValidator(schema);
  const errors = new ErrorCollector();
  const jsonColumns = new Set<string>();
  let itemCount = 0;
  let rows = 0;

  const reject = (rec: SourceRecord, e: { code: string; error: string; field?: string }) => {
    // Key order is the order API.md shows: row, line, field, code, error.
    const error: RowError = {
      row: rec.row,
      ...(rec.line !== undefined && { line: rec.line }),
      ...(e.field !== undefined && { field: e.field }),
      code: e.code,
      error: e.error,
    };
    errors.add(error);
    if (
      !coerce &&
      rec.raw &&
      typeof rec.raw === 'object' &&
      !Array.isArray(rec.raw) &&
      jsonColumns.size < MAX_ERROR_COLUMNS
    ) {
      for (const k of Object.keys(rec.raw)) jsonColumns.add(k);
    }
    return sink.rejected(error, rec.raw);
  };

  // The readers hand over rows in batches; a batch is validated in one synchronous loop, and the
  // loop waits only when the sink asks it to (backpressure).
  for await (const batch of records) {
    for (const rec of batch) {
      rows++;
      let pending: void | Promise<void>;
      if (rec.error) pending = reject(rec, rec.error);
      else if (!rec.value || typeof rec.value !== 'object' || Array.isArray(rec.value)) {
        pending = reject(rec, { code: 'type', error: msg.rowNotObject() });
      } else {
        const verdict = validator.validate(rec.value as Record<string, unknown>, coerce);
        if (verdict.ok) {
          itemCount++;
          pending = sink.item(rec.row, verdict.item);
        } else pending = reject(rec, verdict);
      }
      if (pending) await pending;
    }
  }
  if (!coerce) errorColumns.push(...jsonColumns);

  const result = {
    itemCount,
    validationErrorCount: errors.total,
    validationErrors: errors.listed,
    validationErrorsTruncated: errors.truncated,
    errorSummary: errors.errorSummary(),
  };
  if (itemCount === 0) {
    throw new IngestError('file_parsing_failed', noneValid(rows, errors.total), errors.listed, {
      validationErrorCount: errors.total,
      validationErrorsTruncated: errors.truncated,
      errorSummary: result.errorSummary,
    });
  }
  return result;
}
