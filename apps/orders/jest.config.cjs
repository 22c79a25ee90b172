module.exports = {
  displayName: 'orders',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // The integration suites share one broker and one PostgreSQL on two cores.
  maxWorkers: 2,
  testTimeout: 60_000,
};
