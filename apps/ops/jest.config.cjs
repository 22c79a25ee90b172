const preset = require('../../jest.preset.js');

module.exports = {
  displayName: 'ops',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // commander ships only ES modules (Node loads them with require(esm); Jest's CommonJS runtime cannot).
  transformIgnorePatterns: preset.transformIgnorePatterns.map((pattern) =>
    pattern.replace('(?!(.+/node_modules/)?(', '(?!(.+/node_modules/)?(commander|'),
  ),
  // The suites share one broker and one PostgreSQL with the other projects' tests on two cores.
  maxWorkers: 1,
  testTimeout: 60_000,
};
