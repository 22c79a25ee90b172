module.exports = {
  displayName: 'email-sender',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  setupFiles: ['<rootDir>/test/setup.ts'],
  // The integration tests share one broker and start child processes; in parallel they would only fight over
  // two cores.
  maxWorkers: 1,
  testTimeout: 60_000,
};
