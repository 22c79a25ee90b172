module.exports = {
  displayName: 'acs-emulator',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testTimeout: 30_000,
};
