import { ContractViolationError } from './contract-violation.error';
import { formatTimestamp, isTimestamp, toDate } from './timestamp';

describe(isTimestamp.name, () => {
  it.each([
    '2026-03-16T08:00:00Z',
    '2026-03-16T08:00:00.1Z',
    '2026-03-16T08:00:00.123Z',
    '2024-01-02T13:49:31.5591909Z',
    '2026-03-16T09:00:00+01:00',
    '2026-03-16T03:30:00.5-04:30',
    '2024-02-29T23:59:59Z',
  ])('accepts %s', (value) => {
    expect(isTimestamp(value)).toBe(true);
  });

  it.each([
    ['no zone', '2026-03-16T08:00:00'],
    ['no zone, with fraction', '2024-01-02T13:49:31.5591909'],
    ['8 fractional digits', '2024-01-02T13:49:31.55919091Z'],
    ['no seconds', '2026-03-16T08:00Z'],
    ['a date only', '2026-03-16'],
    ['a space for T', '2026-03-16 08:00:00Z'],
    ['an offset without colon', '2026-03-16T08:00:00+0100'],
    ['29 February of a common year', '2026-02-29T00:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['hour 24', '2026-03-16T24:00:00Z'],
    ['second 60', '2026-03-16T23:59:60Z'],
    ['an empty string', ''],
  ])('rejects %s', (_, value) => {
    expect(isTimestamp(value)).toBe(false);
  });
});

describe(toDate.name, () => {
  it('reads UTC and offsets as the same instant', () => {
    expect(toDate('2026-03-16T08:00:00Z').getTime()).toBe(Date.UTC(2026, 2, 16, 8));
    expect(toDate('2026-03-16T09:00:00+01:00').getTime()).toBe(Date.UTC(2026, 2, 16, 8));
    expect(toDate('2026-03-16T03:30:00-04:30').getTime()).toBe(Date.UTC(2026, 2, 16, 8));
  });

  it('truncates digits beyond milliseconds', () => {
    expect(toDate('2024-01-02T13:49:31.5599999Z').toISOString()).toBe('2024-01-02T13:49:31.559Z');
    expect(toDate('2024-01-02T13:49:31.5Z').toISOString()).toBe('2024-01-02T13:49:31.500Z');
  });

  it('reads years before 100 literally', () => {
    expect(toDate('0050-01-01T00:00:00Z').getUTCFullYear()).toBe(50);
  });

  it('throws a ContractViolationError for a timestamp without zone', () => {
    expect(() => toDate('2026-03-16T08:00:00')).toThrow(ContractViolationError);
  });
});

describe(formatTimestamp.name, () => {
  it('writes UTC ending in Z, readable by toDate', () => {
    const d = new Date('2026-03-16T09:00:00.123+01:00');

    expect(formatTimestamp(d)).toBe('2026-03-16T08:00:00.123Z');
    expect(isTimestamp(formatTimestamp(d))).toBe(true);
    expect(toDate(formatTimestamp(d))).toEqual(d);
  });

  it('refuses an invalid date', () => {
    expect(() => formatTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
