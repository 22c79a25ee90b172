module.exports = {
  displayName: 'dev-infra',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // Starts JVMs and PostgreSQL servers: one file at a time on a small machine.
  maxWorkers: 1,
  testTimeout: 240_000,
};
