import { z } from 'zod';
import {
  envBool,
  envDurationMs,
  envEnum,
  envInt,
  envList,
  envString,
  envUrl,
  type EnvSchema,
} from './env-schemas';
import { ConfigError } from './config.error';
import { loadConfig } from './load-config';

/** Parses one variable `X` through `loadConfig`, as apps do. */
function parse<T>(schema: EnvSchema<T>, value: string | undefined): T {
  return loadConfig(z.object({ X: schema }), { X: value }).X;
}

function problem<T>(schema: EnvSchema<T>, value: string | undefined): string {
  try {
    parse(schema, value);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.problems.map((p) => `${p.variable}: ${p.message}`).join('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('env schemas', () => {
  describe(envString.name, () => {
    it('returns the trimmed value, the default when unset or blank, and requires a value without default', () => {
      expect(parse(envString('d'), ' x ')).toBe('x');
      expect(parse(envString('d'), undefined)).toBe('d');
      expect(parse(envString('d'), '   ')).toBe('d');
      expect(problem(envString(), undefined)).toBe('X: required');
    });
  });

  describe(envInt.name, () => {
    it('parses integers within range', () => {
      expect(parse(envInt(3), '42')).toBe(42);
      expect(parse(envInt(3), '-7')).toBe(-7);
      expect(parse(envInt(3), undefined)).toBe(3);
      expect(parse(envInt(3, { min: 1, max: 10 }), '10')).toBe(10);
    });

    it('rejects non-integers and out-of-range values, naming the range', () => {
      expect(problem(envInt(3), '4.5')).toBe('X: expected an integer, got "4.5"');
      expect(problem(envInt(3), 'ten')).toBe('X: expected an integer, got "ten"');
      expect(problem(envInt(3, { min: 1, max: 10 }), '0')).toBe(
        'X: expected an integer between 1 and 10, got "0"',
      );
      expect(problem(envInt(3, { min: 1 }), '0')).toBe('X: expected an integer >= 1, got "0"');
      expect(problem(envInt(3, { max: 5 }), '6')).toBe('X: expected an integer <= 5, got "6"');
      expect(problem(envInt(), undefined)).toBe('X: required');
    });

    it('refuses a default outside its own range at definition time', () => {
      expect(() => envInt(0, { min: 1 })).toThrow(TypeError);
    });
  });

  describe(envBool.name, () => {
    it.each([
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['No', false],
    ])('parses %j as %s', (raw, value) => {
      expect(parse(envBool(), raw)).toBe(value);
    });

    it('uses the default and rejects other words', () => {
      expect(parse(envBool(true), undefined)).toBe(true);
      expect(problem(envBool(false), 'on')).toBe('X: expected one of true, false, 1, 0, yes, no, got "on"');
    });
  });

  describe(envDurationMs.name, () => {
    it('parses durations with a unit (and 0); defaults may be written either way', () => {
      expect(parse(envDurationMs(0), '500ms')).toBe(500);
      expect(parse(envDurationMs(0), '5s')).toBe(5_000);
      expect(parse(envDurationMs(0), '2m')).toBe(120_000);
      expect(parse(envDurationMs(0), '1h')).toBe(3_600_000);
      expect(parse(envDurationMs(1), '0')).toBe(0);
      expect(parse(envDurationMs('30s'), undefined)).toBe(30_000);
      expect(parse(envDurationMs(1_000), undefined)).toBe(1_000);
    });

    it('rejects other text and values out of range', () => {
      expect(problem(envDurationMs('1s'), 'soon')).toBe(
        'X: expected a duration with a unit such as 500ms, 5s, 2m, 1h or 7d, got "soon"',
      );
      expect(problem(envDurationMs('1s', { min: 1 }), '0')).toMatch(/\(ms >= 1\), got "0"$/);
      expect(() => envDurationMs('whenever')).toThrow(TypeError);
      expect(() => envDurationMs('30')).toThrow(TypeError);
    });

    it('refuses a number without a unit, naming the variable and both readings', () => {
      expect(problem(envDurationMs('1s'), '30')).toBe(
        'X: expected a duration with a unit such as 500ms, 5s, 2m, 1h or 7d; a number without a unit is ' +
          'ambiguous (write 30ms or 30s), got "30"',
      );
    });
  });

  describe(envList.name, () => {
    it('splits on commas, trims, and drops empty items', () => {
      expect(parse(envList(['a']), ' b , c,,d ')).toEqual(['b', 'c', 'd']);
      expect(parse(envList(['a']), undefined)).toEqual(['a']);
      expect(problem(envList(['a']), ' , ')).toBe('X: expected a comma-separated list, got " , "');
    });

    it('never hands out (or freezes) the array given as default', () => {
      const defaults = ['a'];
      const first = parse(envList(defaults), undefined);
      expect(first).not.toBe(defaults);
      expect(Object.isFrozen(defaults)).toBe(false);
    });
  });

  describe(envEnum.name, () => {
    it('matches case-insensitively and returns the canonical spelling', () => {
      expect(parse(envEnum(['none', 'gzip'], 'none'), 'GZIP')).toBe('gzip');
      expect(parse(envEnum(['none', 'gzip'], 'none'), undefined)).toBe('none');
      expect(problem(envEnum(['none', 'gzip'], 'none'), 'zstd')).toBe(
        'X: expected one of none, gzip, got "zstd"',
      );
    });

    it('is optional with .optional()', () => {
      expect(parse(envEnum(['a', 'b']).optional(), undefined)).toBeUndefined();
      expect(parse(envEnum(['a', 'b']).optional(), 'b')).toBe('b');
      expect(problem(envEnum(['a', 'b']).optional(), 'c')).toBe('X: expected one of a, b, got "c"');
    });
  });

  describe(envUrl.name, () => {
    it('accepts absolute URLs of the allowed schemes, as written', () => {
      expect(parse(envUrl(), 'https://example.org/x')).toBe('https://example.org/x');
      expect(parse(envUrl(undefined, { protocols: ['postgres'] }), 'postgres://h/db')).toBe(
        'postgres://h/db',
      );
      expect(parse(envUrl('http://localhost:1'), undefined)).toBe('http://localhost:1');
    });

    it('rejects relative URLs and other schemes', () => {
      expect(problem(envUrl(), 'example.org')).toBe('X: expected a URL, got "example.org"');
      expect(problem(envUrl(undefined, { protocols: ['postgres', 'postgresql'] }), 'mysql://h/db')).toBe(
        'X: expected a URL starting with postgres:// or postgresql://, got "mysql://h/db"',
      );
      expect(problem(envUrl(), undefined)).toBe('X: required');
    });
  });
});
