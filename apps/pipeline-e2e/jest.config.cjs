module.exports = {
  displayName: 'pipeline-e2e',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // Whole-pipeline runs: four processes, a broker and a database, with outcomes measured in seconds.
  testTimeout: 180_000,
  // The fault-injection suite runs on its own (`npm run test:faults`, jest.faults.config.cjs).
  testPathIgnorePatterns: ['/node_modules/', '/test/faults/'],
};
