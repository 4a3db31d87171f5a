/** Unit specs live beside the code; end-to-end specs in test/. Both run against a private redis-server
 * that test/global-setup.js starts on a free port (never the developer's 6379). */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.check.json' }] };
/**
 * The dashboard's browser modules are ES modules (`export`, loaded by <script type="module">); jest
 * runs CommonJS, so ts-jest (allowJs in tsconfig.check.json) turns them into CommonJS for the unit
 * specs beside them. The browser still gets the files as they are.
 */
const dashboardTransform = { ...transform, '^.+/src/dashboard/public/[^/]+\\.js$': transform['^.+\\.ts$'] };
module.exports = {
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform: dashboardTransform, rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { displayName: 'e2e', testEnvironment: 'node', transform, rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], setupFilesAfterEnv: ['<rootDir>/test/e2e-timeout.js'] },
  ],
};
