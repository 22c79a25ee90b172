module.exports = {
  displayName: 'deploy',
  preset: '../jest.preset.js',
  rootDir: __dirname,
  resolver: '<rootDir>/jest.resolver.cjs',
  transformIgnorePatterns: [
    '/node_modules/(?!(.+/node_modules/)?(kubernetes-models|@kubernetes-models|is-cidr|cidr-regex)/)',
  ],
};
