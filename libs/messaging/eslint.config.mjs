import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    // The core (`@notifications/messaging`) is framework-free: the ops CLI and libs/testing use it without Nest.
    files: ['src/lib/**/*.ts', 'src/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'rxjs', '**/nest', '**/nest/**'],
              message:
                'The messaging core stays framework-free; Nest code belongs in src/nest (@notifications/messaging/nest).',
            },
          ],
        },
      ],
    },
  },
];
