import { readFileSync } from 'node:fs';

export interface Plan {
  name: string;
  batchEnabled: boolean;
  maxFileBytes: number;
  maxItemsPerBatch: number;
  /** null: unlimited. */
  maxItemsPerMonth: number | null;
  maxConcurrentBatches: number;
  /** null: not limited. */
  requestsPerMinute: number | null;
  /** File parts one upload request (or upload-session request) may carry. */
  maxFilesPerRequest: number;
}

const MB = 1024 * 1024;

/**
 * API.md's built-in plans. Sizes are binary. API.md's table has no request rate: the defaults here
 * are generous (a client's bursts and races stay under them); PLANS_FILE sets real ones.
 */
export const BUILT_IN_PLANS: Record<string, Plan> = {
  free: {
    name: 'free',
    batchEnabled: false,
    maxFileBytes: 1 * MB,
    maxItemsPerBatch: 0,
    maxItemsPerMonth: 0,
    maxConcurrentBatches: 0,
    requestsPerMinute: 600,
    maxFilesPerRequest: 0,
  },
  pro: {
    name: 'pro',
    batchEnabled: true,
    maxFileBytes: 10 * MB,
    maxItemsPerBatch: 50_000,
    maxItemsPerMonth: 1_000_000,
    maxConcurrentBatches: 5,
    requestsPerMinute: 6000,
    maxFilesPerRequest: 20,
  },
  enterprise: {
    name: 'enterprise',
    batchEnabled: true,
    maxFileBytes: 1024 * MB,
    maxItemsPerBatch: 10_000_000,
    maxItemsPerMonth: null,
    maxConcurrentBatches: 50,
    requestsPerMinute: null,
    maxFilesPerRequest: 100,
  },
};

type PlanKey = Exclude<keyof Plan, 'name'>;
const NULLABLE: PlanKey[] = ['maxItemsPerMonth', 'requestsPerMinute'];
const NUMERIC: PlanKey[] = [
  'maxFileBytes',
  'maxItemsPerBatch',
  'maxItemsPerMonth',
  'maxConcurrentBatches',
  'requestsPerMinute',
  'maxFilesPerRequest',
];

/** Built-in plans, overridden key by key (and added to) by the JSON object in PLANS_FILE. */
export function loadPlans(file?: string): Record<string, Plan> {
  const plans: Record<string, Plan> = {};
  for (const [name, plan] of Object.entries(BUILT_IN_PLANS)) plans[name] = { ...plan };
  if (!file) return plans;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`PLANS_FILE: cannot read ${file} as JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new Error('PLANS_FILE: must be a JSON object keyed by plan name');
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
      throw new Error(`PLANS_FILE: plan name "${name}" must use letters, digits, '_' or '-'`);
    if (!entry || typeof entry !== 'object' || Array.isArray(entry))
      throw new Error(`PLANS_FILE: plan "${name}" must be an object`);
    const base: Plan = plans[name] ?? { ...BUILT_IN_PLANS.pro, name };
    const next: Plan = { ...base, name };
    for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
      if (key === 'batchEnabled') {
        if (typeof value !== 'boolean') throw new Error(`PLANS_FILE: ${name}.batchEnabled must be true or false`);
        next.batchEnabled = value;
      } else if ((NUMERIC as string[]).includes(key)) {
        const k = key as PlanKey;
        if (value === null && NULLABLE.includes(k)) (next as unknown as Record<string, unknown>)[k] = null;
        else if (typeof value === 'number' && Number.isInteger(value) && value >= 0)
          (next as unknown as Record<string, unknown>)[k] = value;
        else
          throw new Error(
            `PLANS_FILE: ${name}.${key} must be a whole number >= 0${NULLABLE.includes(k) ? ' or null' : ''}`,
          );
      } else {
        throw new Error(`PLANS_FILE: ${name}.${key} is not a plan setting`);
      }
    }
    plans[name] = next;
  }
  return plans;
}

/** At least one file per request, whatever a plan says. */
export const filesPerRequest = (plan: { maxFilesPerRequest: number }) => Math.max(1, plan.maxFilesPerRequest);
