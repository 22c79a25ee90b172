module.exports = {
  displayName: 'status-poller',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // Integration tests run the app against the real broker and the ACS emulator, with second-level timing.
  testTimeout: 60_000,
};
