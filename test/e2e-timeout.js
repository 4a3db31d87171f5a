/**
 * The e2e specs' default timeout. Jest reads `testTimeout` only from the top-level config, not from a
 * project's, so the e2e project sets it here (setupFilesAfterEnv runs in each spec's environment).
 * Specs that need longer still call jest.setTimeout themselves.
 */
jest.setTimeout(60_000);
