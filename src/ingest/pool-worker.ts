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

let chain = Promise.resolve();
parentPort!.on('message', (m: { id: number; task: ChunkTask }) => {
  chain = chain.then(async () => {
    try {
      const result = await runChunk(m.task, schemaOf(m.task.schema));
      parentPort!.postMessage({ id: m.id, result });
    } catch (e) {
      parentPort!.postMessage({ id: m.id, error: (e as Error).message });
    }
  });
});
