// `npm run test:faults`: the fault-injection suite alone (minutes, not seconds; one pipeline per case).
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  displayName: 'pipeline-faults',
  testMatch: ['<rootDir>/test/faults/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 600_000,
};
