// Type-aware lint for the TypeScript (after immich server/eslint.config.mjs); plain lint for the
// CommonJS Node scripts, which no tsconfig covers.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * DESIGN.md's layers, enforced (README, "Layout"): imports point from the edge down to shared code,
 * never back. Each block names what its folders may not import; `npm run lint` fails on a backward edge.
 */
const FEATURES = ['uploads', 'batches', 'processing', 'dashboard', 'health', 'admin'];
const EDGE = [...FEATURES, 'http', 'rate-limit'];
const ADAPTERS = ['redis', 'storage', 'store', 'queue', 'metrics', 'logging', 'schemas', 'lifecycle', 'ingest-pool'];
const SHARED = ['errors', 'config', 'common', 'auth', 'plans'];
const folders = (names) => names.flatMap((n) => [`../${n}`, `../${n}/*`, `../../${n}/*`, `**/src/${n}/*`]);
const forbid = (names, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: folders(names), message }] }],
});
const layers = [
  {
    // The ingest core: a stream and a schema in, items and row errors out. Nothing but common/.
    files: ['src/ingest/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '!../common', '!../common/*', '../../*', '**/src/*'],
              message: 'The ingest core imports nothing of batchgate but src/common/ (DESIGN.md).',
            },
            {
              group: ['@nestjs/*', 'ioredis', 'bullmq', 'express', 'multer', '@aws-sdk/*', 'node:http', 'node:https'],
              message: 'The ingest core has no Nest, no Redis, no HTTP, no storage client (DESIGN.md).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/{errors,config,auth,plans}/**/*.ts'],
    rules: forbid(
      [...EDGE, ...ADAPTERS, 'ingest'],
      'Shared folders import only other shared folders (README, Layout).',
    ),
  },
  {
    files: ['src/common/**/*.ts'],
    rules: forbid(
      [...EDGE, ...ADAPTERS, ...SHARED.filter((n) => n !== 'common'), 'ingest'],
      'common/ is the bottom layer: it imports nothing of batchgate.',
    ),
  },
  {
    files: ADAPTERS.map((n) => `src/${n}/**/*.ts`),
    rules: forbid(EDGE, 'Adapters (Redis, storage, store, queue, ...) never import a feature or the HTTP edge.'),
  },
  {
    files: ['src/batches/**/*.ts'],
    rules: forbid(['uploads', 'processing', 'dashboard', 'health', 'admin'], 'Features do not import each other.'),
  },
  {
    files: ['src/uploads/**/*.ts'],
    rules: forbid(['batches', 'processing', 'dashboard', 'health', 'admin'], 'Features do not import each other.'),
  },
  {
    files: ['src/processing/**/*.ts'],
    rules: forbid(
      ['batches', 'uploads', 'dashboard', 'health', 'admin', 'http', 'rate-limit'],
      'The worker imports no api feature.',
    ),
  },
];

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'coverage/', 'data/', 'test/artifacts/', 'bench/out/']),
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // tsconfig.json leaves out the specs, test/ and bench/; the check config has them all.
        project: './tsconfig.check.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Un-awaited Queue.add / promise-returning handlers lose errors silently (STYLE.md, Queues).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'warn',
      eqeqeq: 'error',
    },
  },
  ...layers,
  {
    // Tests read untyped JSON responses; type-checking every field access there buys nothing.
    files: ['test/**/*.ts', 'src/**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // The dashboard's own scripts run in the browser as native ES modules (no bundler); the unit specs
    // load the DOM-free ones under jest.
    files: ['src/dashboard/public/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.browser },
    rules: { eqeqeq: 'error' },
  },
  {
    files: ['scripts/**/*.js', 'test/*.js', 'bench/**/*.js', '*.js'],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'commonjs',
      globals: globals.node,
    },
    rules: {
      eqeqeq: 'error',
    },
  },
);
