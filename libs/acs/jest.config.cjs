module.exports = {
  displayName: 'acs',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
