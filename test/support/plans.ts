import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PLANS_FILE for a test app. */
export async function plansFile(plans: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'batchgate-plans-'));
  const file = join(dir, 'plans.json');
  await writeFile(file, JSON.stringify(plans));
  return file;
}
