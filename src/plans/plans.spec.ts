import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_PLANS, loadPlans } from './plans';

function file(json: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'plans-')), 'plans.json');
  writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json));
  return path;
}

describe('plans', () => {
  it('has the built-in plans of API.md, sizes binary', () => {
    expect(BUILT_IN_PLANS.pro).toMatchObject({
      batchEnabled: true,
      maxFileBytes: 10 * 1048576,
      maxItemsPerBatch: 50_000,
    });
    expect(BUILT_IN_PLANS.enterprise).toMatchObject({ maxFileBytes: 1024 * 1048576, maxItemsPerMonth: null });
    expect(BUILT_IN_PLANS.free.batchEnabled).toBe(false);
  });

  it('overrides key by key, keeps the rest, and adds new plans', () => {
    const plans = loadPlans(file({ pro: { maxItemsPerBatch: 10, maxItemsPerMonth: 25 }, team: { maxFileBytes: 5 } }));
    expect(plans.pro).toMatchObject({ maxItemsPerBatch: 10, maxItemsPerMonth: 25, maxFileBytes: 10 * 1048576 });
    expect(plans.team).toMatchObject({ name: 'team', maxFileBytes: 5, batchEnabled: true });
    expect(plans.free).toEqual(BUILT_IN_PLANS.free);
  });

  it.each([
    ['not JSON', '{nope', /cannot read/],
    ['an array', [], /JSON object/],
    ['an unknown key', { pro: { maxWidgets: 1 } }, /pro\.maxWidgets is not a plan setting/],
    ['a negative number', { pro: { maxItemsPerBatch: -1 } }, /pro\.maxItemsPerBatch must be a whole number/],
    ['null where not allowed', { pro: { maxFileBytes: null } }, /pro\.maxFileBytes/],
    ['a string flag', { pro: { batchEnabled: 'yes' } }, /batchEnabled must be true or false/],
  ])('refuses %s with a line naming PLANS_FILE', (_label, json, pattern) => {
    expect(() => loadPlans(file(json))).toThrow(/^PLANS_FILE/);
    expect(() => loadPlans(file(json))).toThrow(pattern);
  });
});
