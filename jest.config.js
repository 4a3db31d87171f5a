/** Unit specs live beside the code; end-to-end specs in test/. Both run against a private redis-server
 * that test/global-setup.js starts on a free port (never the developer's 6379). */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.check.json' }] };
module.exports = {
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { displayName: 'e2e', testEnvironment: 'node', transform, rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], testTimeout: 60000 },
  ],
};
