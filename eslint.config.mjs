import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// Project tags (two axes, see project.json files):
//   scope:orders | scope:email | scope:status | scope:shared
//   type:app | type:contracts | type:platform | type:testing | type:util | type:e2e
function moduleBoundaries({ inTests }) {
  const testing = inTests ? ['type:testing'] : [];
  return {
    enforceBuildableLibDependency: true,
    banTransitiveDependencies: true,
    allow: [],
    depConstraints: [
      // Apps may use shared libs and their own scope, never another app's code.
      { sourceTag: 'scope:orders', onlyDependOnLibsWithTags: ['scope:orders', 'scope:shared'] },
      { sourceTag: 'scope:email', onlyDependOnLibsWithTags: ['scope:email', 'scope:shared'] },
      { sourceTag: 'scope:status', onlyDependOnLibsWithTags: ['scope:status', 'scope:shared'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      {
        sourceTag: 'type:app',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:util', ...testing],
      },
      // The wire contracts are framework-free: no Nest, TypeORM or Kafka.
      {
        sourceTag: 'type:contracts',
        onlyDependOnLibsWithTags: ['type:util', ...testing],
        bannedExternalImports: ['@nestjs/*', 'typeorm', 'kafkajs', 'pg'],
      },
      {
        sourceTag: 'type:platform',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:util', ...testing],
      },
      { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', ...testing] },
      // Whole-pipeline tests and benchmarks drive the apps as processes: they may use contracts and test helpers.
      {
        sourceTag: 'type:e2e',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:util', 'type:testing'],
      },
      // Test helpers may build on each other (libs/testing drives the isolated infrastructure of libs/dev-infra).
      {
        sourceTag: 'type:testing',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:util', 'type:testing'],
      },
    ],
  };
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: [
      '**/dist',
      '**/out-tsc',
      '**/coverage',
      '**/node_modules',
      '.nx',
      '.tools',
      '.infra',
      '**/jest.config.cjs',
      'jest.preset.js',
    ],
  },
  {
    files: ['**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ inTests: false })] },
  },
  {
    // Tests and benchmarks of any project may use the shared testing helpers; production code (src/) may not.
    files: ['**/*.spec.ts', '**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ inTests: true })] },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Tests may poke at internals through `any`-free casts; keep them strict but allow non-null assertions.
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
];
