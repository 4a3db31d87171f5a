'use strict';
/**
 * Deterministic test data: the same seed gives the same bytes on every machine and every run.
 * Rows have the default schema's columns (content, externalId) plus a free `tag` column; the
 * content is drawn from a pool of phrases, some with commas, double quotes and line breaks (so CSV
 * quoting is exercised), and about 1% of the rows are invalid (blank content, or an externalId over
 * the schema's 256 characters). Data is produced as a stream of ~64 KB buffers: big files are sent
 * over HTTP as they are generated and never written to disk.
 */
const fs = require('node:fs');
const { once } = require('node:events');

const CHUNK_BYTES = 64 * 1024;
const POOL_SIZE = 4096;

/** mulberry32: a small, fast 32-bit PRNG; floats in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'claim invoice order refund parcel delivery customer account payment review damaged late missing ' +
  'replacement warranty return credit shipment address update request ticket priority urgent ' +
  'standard billing subscription renewal cancelled approved pending rejected verified'
).split(' ');
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];

/** A phrase of 6 to 13 words; some carry the characters that make CSV quoting interesting. */
function phrase(rand) {
  const n = 6 + Math.floor(rand() * 8);
  const words = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)]);
  const r = rand();
  if (r < 0.15)
    words.splice(2, 0, 'see, also'); // quoted comma
  else if (r < 0.2)
    words.splice(1, 0, 'said "hello"'); // embedded quotes
  else if (r < 0.23) words.splice(3, 0, 'line one\nline two'); // a record over two lines
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function csvCell(s) {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The rows, one at a time: { content, externalId, tag, valid }.
 * `invalidRate` 0 gives only valid rows (the worker's 1M-item batch).
 */
function rowSource(seed, invalidRate) {
  const rand = prng(seed);
  const pool = [];
  for (let i = 0; i < POOL_SIZE; i++) pool.push(phrase(rand));
  const csvPool = pool.map(csvCell);
  const jsonPool = pool.map((s) => JSON.stringify(s));
  const longId = 'x'.repeat(300);
  let i = 0;
  return () => {
    i++;
    const p = Math.floor(rand() * POOL_SIZE);
    const tag = TAGS[Math.floor(rand() * TAGS.length)];
    const r = rand();
    const externalId = `ext-${String(i).padStart(8, '0')}`;
    if (r < invalidRate / 2) {
      return { csvContent: '', jsonContent: '""', externalId, tag, valid: false }; // required
    }
    if (r < invalidRate) {
      return { csvContent: csvPool[p], jsonContent: jsonPool[p], externalId: longId, tag, valid: false }; // maxLength
    }
    return { csvContent: csvPool[p], jsonContent: jsonPool[p], externalId, tag, valid: true };
  };
}

/**
 * Yields the file as buffers of about 64 KB. Stops after `rows` rows, or once `bytes` bytes are
 * reached (whichever is given). Calls `stats` at the end with { rows, validRows, bytes }.
 * @param {{ format: 'csv'|'ndjson'|'json', seed: number, rows?: number, bytes?: number,
 *   invalidRate?: number, stats?: (s: {rows: number, validRows: number, bytes: number}) => void }} o
 */
function* generate(o) {
  const next = rowSource(o.seed, o.invalidRate ?? 0.01);
  const maxRows = o.rows ?? Infinity;
  const maxBytes = o.bytes ?? Infinity;
  let rows = 0;
  let validRows = 0;
  let bytes = 0;
  let text = o.format === 'csv' ? 'content,externalId,tag\n' : o.format === 'json' ? '[\n' : '';
  while (rows < maxRows && bytes + text.length < maxBytes) {
    const row = next();
    rows++;
    if (row.valid) validRows++;
    if (o.format === 'csv') text += `${row.csvContent},${row.externalId},${row.tag}\n`;
    else {
      const obj = `{"content":${row.jsonContent},"externalId":"${row.externalId}","tag":"${row.tag}"}`;
      text += o.format === 'json' ? `${rows > 1 ? ',\n' : ''}${obj}` : `${obj}\n`;
    }
    if (text.length >= CHUNK_BYTES) {
      const buf = Buffer.from(text, 'utf8');
      bytes += buf.length;
      text = '';
      yield buf;
    }
  }
  if (o.format === 'json') text += '\n]\n';
  if (text) {
    const buf = Buffer.from(text, 'utf8');
    bytes += buf.length;
    yield buf;
  }
  if (o.stats) o.stats({ rows, validRows, bytes });
}

/** Writes a generated file to disk (the 10 MB files only) and resolves with its stats. */
async function writeGenerated(path, o) {
  let stats;
  const out = fs.createWriteStream(path);
  try {
    for (const buf of generate({ ...o, stats: (s) => (stats = s) })) {
      if (!out.write(buf)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } finally {
    out.destroy();
  }
  return stats;
}

module.exports = { generate, writeGenerated, prng };
