const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const swcConfig = JSON.parse(readFileSync(join(__dirname, '../../.swcrc'), 'utf8'));
swcConfig.swcrc = false;

// The Azure SDK's HTTP runtime requires ESM-only proxy agents; Node loads them natively (require(esm)), Jest's
// module runtime does not, so these few packages are compiled to CommonJS like our own sources.
const ESM_ONLY = ['https-proxy-agent', 'http-proxy-agent', 'agent-base', 'proxy-agent-negotiate'];

module.exports = {
  displayName: 'email-sender',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  transform: {
    '^.+\\.ts$': ['@swc/jest', swcConfig],
    '^.+\\.m?js$': ['@swc/jest', swcConfig],
  },
  transformIgnorePatterns: [`/node_modules/(?!(.+/node_modules/)?(${ESM_ONLY.join('|')})/)`],
  // The integration tests share one broker and start child processes; in parallel they would only fight over
  // two cores.
  setupFiles: ['<rootDir>/test/setup.ts'],
  maxWorkers: 1,
  testTimeout: 60_000,
};
