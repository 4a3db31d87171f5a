import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every way the service is started runs node with the same V8 flags (scripts/node-flags.js): a flag
 * the bench measures with must be the one users run with, in the start scripts, the Dockerfile and
 * compose alike.
 */
const ROOT = join(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS script
const { NODE_FLAGS } = require('../scripts/node-flags') as { NODE_FLAGS: string[] };
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('node flags of every start path', () => {
  it('are defined', () => {
    expect(NODE_FLAGS).toEqual(['--single-threaded-gc', '--max-semi-space-size=2']);
  });

  it("package.json's start scripts", () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts['start:api']).toBe(`node ${NODE_FLAGS.join(' ')} dist/main.js`);
    expect(scripts['start:worker']).toBe(`node ${NODE_FLAGS.join(' ')} dist/worker.js`);
  });

  it('the Dockerfile and docker-compose.yml', () => {
    const list = (script: string) => JSON.stringify(['node', ...NODE_FLAGS, script]);
    expect(read('Dockerfile')).toContain(`CMD ${list('dist/main.js').replace(/,/g, ', ')}`);
    const compose = read('docker-compose.yml').replace(/'/g, '"').replace(/, /g, ',');
    expect(compose).toContain(`command: ${list('dist/main.js')}`);
    expect(compose).toContain(`command: ${list('dist/worker.js')}`);
    expect(compose.match(/command: \["node"/g)).toHaveLength(2);
  });

  it('scripts/start.js, scripts/fleet.js and the bench spawn with them', () => {
    for (const file of ['scripts/start.js', 'scripts/fleet.js', 'bench/procs.js']) {
      const text = read(file);
      expect(text).toMatch(/NODE_FLAGS/);
      expect(text).toMatch(/spawn\(process\.execPath, \[\.\.\.NODE_FLAGS/);
    }
  });
});
