// Shared Jest settings. Tests run TypeScript through SWC (fast, keeps decorator metadata for Nest);
// type errors are caught by the `typecheck` target, not by the test runner.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const swcConfig = JSON.parse(readFileSync(join(__dirname, '.swcrc'), 'utf8'));
swcConfig.swcrc = false;

const ESM_ONLY_PACKAGES = [
  'https-proxy-agent',
  'http-proxy-agent',
  'agent-base',
  'proxy-agent-negotiate',
  'jose',
];

module.exports = {
  testEnvironment: 'node',
  // Resolve workspace libs to their TypeScript sources (see the exports of each lib's package.json).
  testEnvironmentOptions: { customExportConditions: ['@notifications/source', 'node', 'require', 'default'] },
  // Our TypeScript, plus the few dependencies that ship only ES modules (Node 24 loads them with require(esm);
  // Jest's CommonJS runtime cannot): the Azure SDK's proxy agents and jose.
  transform: { '^.+\\.ts$': ['@swc/jest', swcConfig], '^.+\\.m?js$': ['@swc/jest', swcConfig] },
  transformIgnorePatterns: [`/node_modules/(?!(.+/node_modules/)?(${ESM_ONLY_PACKAGES.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  reporters: ['default', join(__dirname, 'tools/jest/summary-reporter.cjs')],
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.spec.ts', '!src/**/index.ts'],
};
