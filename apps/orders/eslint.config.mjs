import baseConfig from '../../eslint.config.mjs';

/**
 * The folders of src/, lowest first (README "Layout"). A folder may import only from lower rungs: never from its
 * own rung's other folders (the steps do not call each other) nor from a higher one. main.ts, migrate.ts and
 * tools/ stand above the ladder and may import anything; tests are not restricted.
 */
export const LAYERS = [
  ['domain'],
  ['config'],
  ['store', 'clients'],
  ['progress'],
  ['api', 'intake', 'dispatch', 'status', 'subscriptions'],
  ['scheduler'],
  ['ops'],
  ['app'],
];

function layerRule(folder, rung) {
  const forbidden = LAYERS.slice(rung)
    .flat()
    .filter((other) => other !== folder);
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // A relative import whose path passes through a forbidden folder: '../api/x', '../../app/y'.
              regex: `^(\\.\\.?/)+(.*/)?(${forbidden.join('|')})(/|$)`,
              message: `src/${folder}/ may import only from lower layers (${LAYERS.slice(0, rung).flat().join(', ') || 'none'}); see the layout in apps/orders/README.md.`,
            },
          ],
        },
      ],
    },
  };
}

export default [
  ...baseConfig,
  ...LAYERS.flatMap((rung, index) => rung.map((folder) => layerRule(folder, index))),
];
