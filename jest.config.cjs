// Two projects: `unit` (fast, no infrastructure) and `integration` (the real Postgres, Kafka and Redis Cluster,
// each run isolated in its own database, topic prefix and key prefix by libs/testing's global setup).
const { common } = require('./jest.common.cjs');

module.exports = {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.int-spec.ts', '<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.cjs',
      // with several workers, each worker's own test run (global setup makes one per worker)
      setupFiles: ['<rootDir>/libs/testing/src/jest/select-worker-run.ts'],
      globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.cjs',
    },
  ],
};
