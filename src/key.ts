import { KeyCommandError, newKey, newKeyText } from './auth/new-key';
import { loadPlans } from './plans/plans';

/** `npm run key -- --org acme --plan pro --name ci [--scopes read,uploads:write]` (README, Authentication). */
try {
  // The plans the service would know (PLANS_FILE, else the built-in ones), so the entry's plan is one of them.
  const made = newKey(process.argv.slice(2), loadPlans(process.env.PLANS_FILE || undefined));
  process.stdout.write(newKeyText(made));
} catch (e) {
  console.error(`batchgate key: ${e instanceof KeyCommandError ? e.message : String((e as Error)?.message ?? e)}`);
  process.exit(1);
}
