module.exports = {
  displayName: 'observability',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // Integration tests share one broker; running files in parallel would only fight over two cores.
  maxWorkers: 1,
  testTimeout: 60_000,
};
