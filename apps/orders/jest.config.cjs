const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const swcConfig = JSON.parse(readFileSync(join(__dirname, '../../.swcrc'), 'utf8'));
swcConfig.swcrc = false;

module.exports = {
  displayName: 'orders',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // jose 6 ships only ES modules; Jest's CommonJS runtime needs it compiled like our own sources.
  transform: { '^.+\\.(ts|js)$': ['@swc/jest', swcConfig] },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // The integration suites share one broker and one PostgreSQL on two cores.
  maxWorkers: 2,
  testTimeout: 60_000,
};
