import { jsonRowProblem } from './json-checks';
import type { ItemSchema } from './schema-registry';
import { BATCH_ROWS, type SourceRecord } from './source-record';
import { type ValidationCounts, validateRecords } from './validate-records';

export interface ValidatedItems extends ValidationCounts {
  /** The valid items as the worker reads them: `{"row":n,"item":{...}}` lines. */
  ndjson: string;
}

/** Direct items in batches of rows, yielding to the event loop between batches so a large body never stalls others. */
async function* asRecords(items: unknown[]): AsyncGenerator<SourceRecord[]> {
  for (let start = 0; start < items.length; start += BATCH_ROWS) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    yield items.slice(start, start + BATCH_ROWS).map((value, i): SourceRecord => {
      const row = start + i + 1;
      // Too deep to serialize, or a number already changed by express's JSON.parse (see jsonRowProblem).
      const problem = jsonRowProblem(value);
      return problem ? { row, error: problem, raw: null } : { row, value, raw: value };
    });
  }
}

/**
 * POST /v1/batch's `items`, validated as an upload's rows are (element 1 is row 1), through the same
 * row loop. Throws `file_parsing_failed` when none is valid.
 */
export async function validateItems(items: unknown[], schema: ItemSchema): Promise<ValidatedItems> {
  const lines: string[] = [];
  const counts = await validateRecords(
    asRecords(items),
    schema,
    false,
    {
      item: (row, item) => void lines.push(`{"row":${row},"item":${JSON.stringify(item)}}`),
      rejected: () => undefined,
      reset: () => Promise.resolve(),
    },
    [],
    (rows, errors) => (rows ? `No valid items: all ${errors} have errors.` : 'No items were given.'),
  );
  return { ...counts, ndjson: lines.join('\n') + '\n' };
}
