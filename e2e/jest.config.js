// End-to-end tests: the built API and runner started as processes (`pnpm test:e2e` builds first),
// spoken to over HTTP, against the real Postgres and Redis. Each test file starts the processes it
// needs on a database, Redis prefix and workspace root of its own, and stops them afterwards.
const path = require('node:path');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.e2e.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: { '^@cwo/([a-z-]+)$': path.join(__dirname, '..', 'packages', '$1', 'src') },
  globalSetup: '<rootDir>/global-setup.js',
  globalTeardown: '<rootDir>/global-teardown.js',
  testTimeout: 120_000,
};
