module.exports = {
  displayName: 'kafka-security-e2e',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // An isolated SASL broker with ACLs, a database and four app processes: one file at a time.
  maxWorkers: 1,
  testTimeout: 120_000,
};
