// Two projects: `unit` (fast, no infrastructure) and `integration` (the real Postgres, Kafka and Redis Cluster,
// each run isolated in its own database, topic prefix and key prefix by libs/testing's global setup).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const moduleNameMapper = {
  '^@email-core/stack$': '<rootDir>/scripts/stack',
  '^@email-core/stack/(.*)$': '<rootDir>/scripts/stack/$1',
  '^@email-core/([a-z-]+)$': '<rootDir>/libs/$1/src',
};

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper,
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/.stack'],
};

module.exports = {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.int-spec.ts', '<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.cjs',
      globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.cjs',
    },
  ],
};
