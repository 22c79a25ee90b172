import { parseDurationMs } from './duration';

describe(parseDurationMs.name, () => {
  it.each([
    ['500ms', 500],
    ['5s', 5_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['0', 0],
    ['0.0', 0],
    ['1.5s', 1_500],
    [' 10 S ', 10_000],
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', 'soon', '-5s', '5 seconds', '1e3', '5sm', 's', '30', '1500', '0.5', '-0'])(
    'rejects %j',
    (text) => {
      expect(parseDurationMs(text)).toBeUndefined();
    },
  );
});
