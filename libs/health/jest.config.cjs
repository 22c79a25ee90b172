module.exports = {
  displayName: 'health',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
