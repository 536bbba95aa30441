// Unit and integration tests of every app and package, against the real Postgres and Redis.
// Sources are transformed by SWC; @cwo/* imports resolve to the packages' sources, so no build is needed.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/packages', '<rootDir>/worker-image'],
  testMatch: ['**/src/**/*.test.ts', '**/test/**/*.test.ts'],
  // apps/web has its own runner (Vitest, in a browser-like DOM): pnpm test:web.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/apps/web/'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: { '^@cwo/([a-z-]+)$': '<rootDir>/packages/$1/src' },
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  setupFiles: ['<rootDir>/test/env.js'],
  testTimeout: 30000,
};
