#!/usr/bin/env node
'use strict';
// The `batchgate` command (package.json "bin"): the CLI is TypeScript under src/cli/, built by
// `nest build` into dist/cli/.
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
let cli;
try {
  cli = require(entry);
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(entry)) {
    process.stderr.write(`batchgate: ${entry} is missing: run \`npm run build\` first\n`);
    process.exit(2);
  }
  throw e;
}
cli.main(process.argv).then((code) => {
  process.exitCode = code;
});
