import { spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * Runs a built entry point (dist/main.js, dist/worker.js) until it exits, SIGKILLed after 15 s: its
 * exit code and everything it printed, stdout and stderr together.
 */
export async function runToExit(
  script: string,
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out };
}
