'use strict';
/**
 * The bare in-process pipelines the upload path is compared with: the project's own parser and
 * validator wired the obvious way, without HTTP, multipart, spooling, row numbers, error messages
 * or the error log. CSV: file stream → csv-parse (`columns: true`) → the default schema compiled by
 * the project's SchemaRegistry (ajv) → NDJSON written to disk. NDJSON: file stream → readline →
 * JSON.parse → the same validator → NDJSON on disk.
 */
const fs = require('node:fs');
const readline = require('node:readline');
const { Transform } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { once } = require('node:events');
const { parse } = require('csv-parse');
const path = require('node:path');

/** The default schema as the project compiles it (from the build in `dist`). */
function defaultValidator(dist) {
  const { SchemaRegistry } = require(path.join(dist, 'ingest/schema-registry'));
  return SchemaRegistry.load().get('default').validate;
}

/** Resolves with { valid, invalid } rows. */
async function csvBaseline(file, outFile, validate) {
  let valid = 0;
  let invalid = 0;
  await pipeline(
    fs.createReadStream(file),
    parse({ columns: true, relax_column_count: true }),
    new Transform({
      writableObjectMode: true,
      transform(record, _enc, done) {
        if (validate(record)) {
          valid++;
          done(null, JSON.stringify(record) + '\n');
        } else {
          invalid++;
          done();
        }
      },
    }),
    fs.createWriteStream(outFile),
  );
  return { valid, invalid };
}

async function ndjsonBaseline(file, outFile, validate) {
  let valid = 0;
  let invalid = 0;
  const input = fs.createReadStream(file);
  const out = fs.createWriteStream(outFile);
  try {
    for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
      if (!line) continue;
      const value = JSON.parse(line);
      if (validate(value)) {
        valid++;
        if (!out.write(JSON.stringify(value) + '\n')) await once(out, 'drain');
      } else invalid++;
    }
    out.end();
    await once(out, 'finish');
  } finally {
    input.destroy();
    out.destroy();
  }
  return { valid, invalid };
}

/**
 * JSON array: no streaming JSON-array parser is among the deps, so the project's own element reader
 * (file stream → element scanner + JSON.parse, `dist/ingest/json-reader`, one thread) → the same
 * validator → NDJSON on disk: the single-threaded pipeline the pool's JSON path is compared with.
 */
async function jsonBaseline(file, outFile, validate, dist) {
  const { readJson } = require(path.join(dist, 'ingest/json-reader'));
  let valid = 0;
  let invalid = 0;
  const input = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  const out = fs.createWriteStream(outFile);
  try {
    for await (const batch of readJson(input, 1024 * 1024)) {
      for (const rec of batch) {
        if (rec.value && validate(rec.value)) {
          valid++;
          if (!out.write(JSON.stringify(rec.value) + '\n')) await once(out, 'drain');
        } else invalid++;
      }
    }
    out.end();
    await once(out, 'finish');
  } finally {
    input.destroy();
    out.destroy();
  }
  return { valid, invalid };
}

module.exports = { csvBaseline, ndjsonBaseline, jsonBaseline, defaultValidator };
