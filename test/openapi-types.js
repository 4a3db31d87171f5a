'use strict';
/**
 * `node test/openapi-types.js <document.json> <out.d.ts>`: TypeScript types for an OpenAPI document,
 * made with openapi-typescript's Node API (openapiTS + astToString), as a client would make them.
 * test/openapi.e2e-spec.ts runs it as a child process: openapi-typescript loads ES modules, which
 * jest's CommonJS module runtime cannot load.
 */
const { readFile, writeFile } = require('node:fs/promises');

async function main(input, output) {
  if (!input || !output) throw new Error('usage: node test/openapi-types.js <document.json> <out.d.ts>');
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(JSON.parse(await readFile(input, 'utf8')), { silent: true });
  await writeFile(output, astToString(ast));
}

main(process.argv[2], process.argv[3]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
