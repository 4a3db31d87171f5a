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
const FEATURES = ['uploads', 'sessions', 'batches', 'processing', 'dashboard', 'health', 'admin'];
const EDGE = [...FEATURES, 'http', 'rate-limit'];
const ADAPTERS = ['redis', 'storage', 'store', 'queue', 'metrics', 'logging', 'schemas', 'lifecycle', 'ingest-pool'];
const SHARED = ['errors', 'config', 'common', 'auth', 'plans'];
const folders = (names) => names.flatMap((n) => [`../${n}`, `../${n}/*`, `../../${n}/*`, `**/src/${n}/*`]);
const forbid = (names, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: folders(names), message }, NOT_CLI] }],
});
const NOT_CLI = {
  group: ['./cli', './cli/*', ...folders(['cli'])],
  message: 'The service never imports the CLI (src/cli/).',
};
/**
 * The CLI (src/cli/) is a client of the HTTP API, not part of the service: it may import the
 * service's types (so a contract change breaks its build) and common/, nothing else of src/ at run
 * time, and neither Nest nor the service's infrastructure even as types.
 */
const cliRules = (outside) => ({
  'no-restricted-imports': 'off',
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: [`${outside}*`, `!${outside}common`, `!${outside}common/*`, '**/src/*'],
          allowTypeImports: true,
          message: 'The CLI imports only types from the service (import type), and common/ (README, Layout).',
        },
        {
          group: ['@nestjs/*', 'ioredis', 'bullmq', 'express', 'multer', '@aws-sdk/*'],
          message: 'The CLI talks HTTP to the service: no Nest, Redis, queue or storage client.',
        },
      ],
    },
  ],
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
    // The intake core (bytes → stored upload → fileId), shared by the api's uploads and the worker's sessions.
    files: ['src/intake/**/*.ts'],
    rules: forbid(EDGE, 'The intake core never imports a feature or the HTTP edge.'),
  },
  ...FEATURES.filter((f) => f !== 'processing').map((feature) => ({
    files: [`src/${feature}/**/*.ts`],
    rules: forbid(
      FEATURES.filter((f) => f !== feature),
      'Features do not import each other.',
    ),
  })),
  { files: ['src/cli/*.ts'], rules: cliRules('../') },
  { files: ['src/cli/*/**/*.ts'], rules: cliRules('../../') },
  {
    files: ['src/*.ts', 'src/{http,rate-limit}/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NOT_CLI] }] },
  },
  {
    files: ['src/processing/**/*.ts'],
    rules: forbid(
      ['batches', 'uploads', 'sessions', 'dashboard', 'health', 'admin', 'http', 'rate-limit'],
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
    files: ['scripts/**/*.js', 'test/*.js', 'bench/**/*.js', 'bin/*.js', '*.js'],
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
  {
    // Loaded by jest into each e2e spec's environment (setupFilesAfterEnv), where `jest` is a global.
    files: ['test/e2e-timeout.js'],
    languageOptions: { globals: globals.jest },
  },
);
