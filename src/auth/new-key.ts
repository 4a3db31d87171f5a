import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ORG_ID } from '../common/ids';
import { hasControlCharacters } from '../common/text';
import type { Plan } from '../plans/plans';
import type { HashedKey } from './api-key-file';
import { SCOPES, isScope } from './scopes';

export const KEY_USAGE =
  'usage: npm run key -- --org <orgId> --plan <plan> --name <name> [--scopes read,uploads:write,batches:write] [--json]';

/** A usage mistake: one line for the person at the terminal. */
export class KeyCommandError extends Error {}

export interface NewKey {
  /** The plain key: shown once, stored nowhere. */
  key: string;
  /** The line to add to API_KEYS_FILE. */
  entry: HashedKey;
  json: boolean;
}

/**
 * `npm run key`: a new random API key (256 bits, `bg_` + base64url, so never mistaken for a JWT)
 * and its API_KEYS_FILE entry, checked as the service will check it.
 */
export function newKey(argv: string[], plans: Record<string, Plan>): NewKey {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        org: { type: 'string' },
        plan: { type: 'string' },
        name: { type: 'string' },
        scopes: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new KeyCommandError(`${(e as Error).message}\n${KEY_USAGE}`);
  }
  const { org, plan, name, scopes } = values as Record<string, string | undefined>;
  if (!org || !plan || !name) throw new KeyCommandError(KEY_USAGE);
  if (!ORG_ID.test(org)) throw new KeyCommandError(`--org must be 1 to 64 letters, digits, '.', '_' or '-'`);
  if (!Object.hasOwn(plans, plan))
    throw new KeyCommandError(`--plan: unknown plan "${plan}" (plans: ${Object.keys(plans).join(', ')})`);
  if (!name.trim() || name.length > 200 || hasControlCharacters(name))
    throw new KeyCommandError('--name must be a non-empty line of at most 200 characters');
  let list: HashedKey['scopes'];
  if (scopes !== undefined) {
    const names = scopes
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const wrong = names.find((s) => !isScope(s));
    if (wrong !== undefined || names.length === 0)
      throw new KeyCommandError(
        `--scopes: ${wrong === undefined ? 'none given' : `unknown scope "${wrong}"`} (scopes: ${SCOPES.join(', ')}; leave --scopes out for a key that may do everything)`,
      );
    list = [...new Set(names)] as HashedKey['scopes'];
  }
  const key = `bg_${randomBytes(32).toString('base64url')}`;
  const sha256 = createHash('sha256').update(key).digest('hex');
  return { key, entry: { sha256, orgId: org, plan, name, ...(list && { scopes: list }) }, json: values.json === true };
}

/** What the command prints. */
export function newKeyText(made: NewKey): string {
  const line = JSON.stringify(made.entry);
  if (made.json) return `${JSON.stringify({ key: made.key, entry: made.entry })}\n`;
  return [
    `New API key for org "${made.entry.orgId}" (plan ${made.entry.plan}, name "${made.entry.name}").`,
    'It is shown only this once: give it to its user now. batchgate keeps only its SHA-256.',
    '',
    `  ${made.key}`,
    '',
    'Add this entry to the JSON array in API_KEYS_FILE (the service picks it up within seconds):',
    '',
    `  ${line}`,
    '',
  ].join('\n');
}
