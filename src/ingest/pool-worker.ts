import { parentPort } from 'node:worker_threads';
import { type ChunkTask, runChunk } from './chunk-task';
import { type ItemSchema, SchemaRegistry } from './schema-registry';

/** A thread of the ingest pool (pool.ts): reads and validates the chunks it is sent, one at a time, in order. */
const registry = new SchemaRegistry();
const schemas = new Map<string, ItemSchema>();

function schemaOf(source: string): ItemSchema {
  let schema = schemas.get(source);
  if (!schema) {
    const name = `s${schemas.size}`;
    registry.add(name, JSON.parse(source));
    schema = registry.get(name)!;
    schemas.set(source, schema);
  }
  return schema;
}

/**
 * Compiles the schemas and reads 20,000 made-up rows of each format (about 1 MB, a chunk): what a thread costs
 * once it has read its first chunk (compiled code, its heap at working size) is paid when it
 * starts, not during the first upload. Nothing of it is sent anywhere.
 */
async function warmUp(sources: string[]): Promise<void> {
  for (const source of sources) {
    const schema = schemaOf(source);
    const names = [...schema.properties.keys()].slice(0, 4);
    if (names.length === 0) continue;
    let csv = `${names.join(',')}\n`;
    let ndjson = '';
    for (let i = 0; i < 20000; i++) {
      csv += names.map((n) => (i % 7 === 0 ? `"${n} ${i}, quoted"` : `${n}-${i}`)).join(',') + '\n';
      ndjson += JSON.stringify(Object.fromEntries(names.map((n) => [n, `${n}-${i}`]))) + '\n';
    }
    const place = { index: 1, offset: 0, row: 0, lfBefore: 0, crBefore: 0, last: false };
    const out = () => ({
      items: new Uint8Array(new ArrayBuffer(1 << 20)),
      rejected: new Uint8Array(new ArrayBuffer(1 << 16)),
    });
    const lines = Buffer.from(csv).subarray(csv.indexOf('\n') + 1);
    await runChunk(
      {
        format: 'csv',
        schema: source,
        maxRecordBytes: 1 << 20,
        delimiter: ',',
        lineEnding: 'lf',
        header: names,
        chunk: { ...place, row: 1, bytes: lines },
        out: out(),
      },
      schema,
    ).catch(() => undefined);
    await runChunk(
      {
        format: 'ndjson',
        schema: source,
        maxRecordBytes: 1 << 20,
        chunk: { ...place, bytes: Buffer.from(ndjson) },
        out: out(),
      },
      schema,
    ).catch(() => undefined);
  }
}

let chain = Promise.resolve();
parentPort!.on('message', (m: { id: number; task: ChunkTask } | { warm: string[] }) => {
  if ('warm' in m) {
    chain = chain.then(() => warmUp(m.warm));
    return;
  }
  chain = chain.then(async () => {
    try {
      const result = await runChunk(m.task, schemaOf(m.task.schema));
      // The buffers go back to the main thread, which reuses them.
      const buffers = new Set([result.items.buffer, result.rejected.buffer, result.input.buffer] as ArrayBuffer[]);
      parentPort!.postMessage({ id: m.id, result }, [...buffers]);
    } catch (e) {
      parentPort!.postMessage({ id: m.id, error: (e as Error).message });
    }
  });
});
