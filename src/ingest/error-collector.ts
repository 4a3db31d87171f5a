import type { ErrorSummaryEntry, RowError } from '../common/row-error';

export const LISTED_ERRORS = 100;

/** The first errors in row order, the exact total, and a count per (field, code) over the whole file. */
export class ErrorCollector {
  readonly listed: RowError[] = [];
  total = 0;
  private readonly summary = new Map<string, ErrorSummaryEntry>();

  constructor(private readonly limit = LISTED_ERRORS) {}

  add(error: RowError): void {
    this.total++;
    if (this.listed.length < this.limit) this.listed.push(error);
    const key = `${error.field ?? ''}\u0000${error.code}`;
    const entry = this.summary.get(key);
    if (entry) entry.count++;
    else
      this.summary.set(
        key,
        error.field === undefined ? { code: error.code, count: 1 } : { field: error.field, code: error.code, count: 1 },
      );
  }

  /** Errors tallied elsewhere (a later part of the file), as if they were added here one by one. */
  merge(listed: RowError[], total: number, summary: ErrorSummaryEntry[]): void {
    this.total += total;
    for (const e of listed) {
      if (this.listed.length >= this.limit) break;
      this.listed.push(e);
    }
    for (const s of summary) {
      const key = `${s.field ?? ''}\u0000${s.code}`;
      const entry = this.summary.get(key);
      if (entry) entry.count += s.count;
      else this.summary.set(key, { ...s });
    }
  }

  get truncated(): boolean {
    return this.total > this.listed.length;
  }

  errorSummary(): ErrorSummaryEntry[] {
    return [...this.summary.values()];
  }
}
