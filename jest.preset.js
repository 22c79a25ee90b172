// Shared Jest settings. Tests run TypeScript through SWC (fast, keeps decorator metadata for Nest);
// type errors are caught by the `typecheck` target, not by the test runner.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const swcConfig = JSON.parse(readFileSync(join(__dirname, '.swcrc'), 'utf8'));
swcConfig.swcrc = false;

module.exports = {
  testEnvironment: 'node',
  // Resolve workspace libs to their TypeScript sources (see the exports of each lib's package.json).
  testEnvironmentOptions: { customExportConditions: ['@notifications/source', 'node', 'require', 'default'] },
  transform: { '^.+\\.ts$': ['@swc/jest', swcConfig] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  reporters: ['default', join(__dirname, 'tools/jest/summary-reporter.cjs')],
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.spec.ts', '!src/**/index.ts'],
};
