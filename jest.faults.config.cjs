// The fault suite (`npm run test:faults`): scenarios that kill the shared Kafka broker, a Redis Cluster master,
// Postgres and the apps, so its files run one at a time (scripts/run-faults.ts passes --runInBand) and never
// alongside `npm test`. Same stack isolation as the integration project: its own database, topics and keys.
const { common } = require('./jest.common.cjs');

module.exports = {
  ...common,
  displayName: 'faults',
  testTimeout: 600000,
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.cjs',
};
