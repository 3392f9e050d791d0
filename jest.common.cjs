// Shared by jest.config.cjs (unit, integration) and jest.faults.config.cjs (the fault suite).
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
  '^@email-core/stack/(.*)$': '<rootDir>/libs/stack/src/$1',
  // the dashboard's own aliases (apps/dashboard/tsconfig.json)
  '^@email-core/contracts/(.*)$': '<rootDir>/libs/contracts/src/$1',
  '^@/(.*)$': '<rootDir>/apps/dashboard/src/$1',
  '^@email-core/([a-z-]+)$': '<rootDir>/libs/$1/src',
};

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper,
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/.stack'],
};

module.exports = { common };
