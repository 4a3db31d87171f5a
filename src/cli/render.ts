import type { BatchView, RowError, UploadResponse, UploadView } from './api-types';
import { type Painter, type Terminal, plural, size, table } from './terminal';
import type { FileOutcome } from './upload-strategy';

/** The first row errors as API.md's people read them: row, field, rule, message. */
export function warningsTable(errors: RowError[], term: Terminal, p: Painter): string {
  const rows = errors.map((e) => [String(e.row), e.field ?? '', e.code, e.error]);
  return table(['row', 'field', 'rule', 'message'], rows, term.width, p.bold);
}

function duplicateLine(d: NonNullable<UploadResponse['duplicateOf']>, p: Painter): string {
  const where = d.status === 'consumed' ? `already in batch ${d.batchId ?? '?'}` : 'still available';
  return p.yellow(`  same bytes as upload ${d.fileId} of ${d.createdAt} (${where})`);
}

/** One file's verdict: counts, the first warnings, where the rest are, duplicateOf. */
export function renderOutcome(
  o: FileOutcome,
  opts: { warnings: number; errorsCsv?: string },
  term: Terminal,
  p: Painter,
): string[] {
  if (!o.ok) {
    const r = o.refusal;
    const lines = [`${p.bold(o.file.label)}  ${p.red(`refused (${r.status} ${r.error.code})`)}: ${r.error.message}`];
    const rows = r.validationErrors as RowError[];
    if (rows.length) lines.push(warningsTable(rows.slice(0, opts.warnings), term, p));
    return lines;
  }
  const b = o.body;
  const skipped = b.validationErrorCount;
  const counts = `${plural(b.itemCount, 'item')}, ${plural(skipped, 'row')} skipped`;
  const lines = [
    `${p.bold(o.file.label)}  ${skipped ? p.yellow(counts) : p.green(counts)}  ${p.dim(`${size(b.sizeBytes)} ${b.format}, schema ${b.schema}`)}`,
    `  fileId ${p.cyan(b.fileId)}  (expires ${b.expiresAt})${b.path ? `  path ${b.path}` : ''}`,
  ];
  if (skipped) {
    const shown = b.validationErrors.slice(0, opts.warnings);
    if (shown.length) lines.push(warningsTable(shown, term, p));
    const rest = skipped - shown.length;
    if (rest > 0) {
      lines.push(
        p.dim(
          `  ${plural(rest, 'more row')} skipped: batchgate upload errors ${b.fileId} (--csv FILE: the rows to fix)`,
        ),
      );
    }
    if (opts.errorsCsv) lines.push(`  rejected rows saved to ${opts.errorsCsv}`);
  }
  if (b.duplicateOf) lines.push(duplicateLine(b.duplicateOf, p));
  return lines;
}

export function renderUploadView(v: UploadView, p: Painter): string[] {
  return [
    `${p.bold(v.originalFileName)}  ${v.status === 'available' ? p.green(v.status) : p.yellow(v.status)}${v.batchId ? ` in batch ${v.batchId}` : ''}`,
    `  fileId ${v.fileId}  ${size(v.sizeBytes)} ${v.format}, schema ${v.schema}${v.path ? `, path ${v.path}` : ''}`,
    `  ${plural(v.itemCount, 'item')}, ${plural(v.validationErrorCount, 'row')} skipped`,
    `  created ${v.createdAt}, expires ${v.expiresAt}`,
    `  sha256 ${v.sha256}`,
    ...(v.duplicateOf ? [duplicateLine(v.duplicateOf, p)] : []),
  ];
}

function statusPaint(status: BatchView['status'], p: Painter): string {
  switch (status) {
    case 'completed':
      return p.green(status);
    case 'failed':
    case 'cancelled':
      return p.red(status);
    case 'queued':
    case 'processing':
      return p.cyan(status);
  }
}

export function sourceLabel(b: BatchView): string {
  switch (b.source.type) {
    case 'file':
      return `${b.source.originalFileName ?? 'a file'} (${b.source.fileId})`;
    case 'files':
      return plural(b.source.files.length, 'file');
    case 'items':
      return 'direct items';
  }
}

export function renderBatch(b: BatchView, p: Painter): string[] {
  const lines = [
    `${p.bold(b.id)}  ${statusPaint(b.status, p)}${b.name ? `  "${b.name}"` : ''}`,
    `  ${b.processedCount.toLocaleString('en-US')} of ${plural(b.itemCount, 'item')} processed: ` +
      `${b.succeededCount.toLocaleString('en-US')} succeeded, ${b.failedCount.toLocaleString('en-US')} failed`,
    `  source ${sourceLabel(b)}`,
    `  created ${b.createdAt}${b.startedAt ? `, started ${b.startedAt}` : ''}${b.completedAt ? `, ended ${b.completedAt}` : ''}`,
  ];
  if (b.source.type === 'files') {
    for (const f of b.source.files)
      lines.push(p.dim(`    ${f.fileId}  ${f.path ?? f.originalFileName}  ${plural(f.itemCount, 'item')}`));
  }
  if (b.error) lines.push(p.red(`  error: ${b.error}`));
  return lines;
}

export function batchesTable(batches: BatchView[], term: Terminal, p: Painter): string {
  const rows = batches.map((b) => [
    b.id,
    b.status,
    b.itemCount.toLocaleString('en-US'),
    b.processedCount.toLocaleString('en-US'),
    b.createdAt,
    b.name ?? sourceLabel(b),
  ]);
  return table(['id', 'status', 'items', 'processed', 'created', 'name or source'], rows, term.width, p.bold);
}
