import { violationOf } from '../../../test/violation';
import { HEALTH_CHECK_PAYLOAD, HealthCheckContract } from './health-check.contract';

describe(HealthCheckContract.name, () => {
  it('writes the bare string test, not a JSON string', () => {
    expect(HealthCheckContract.serialize(HEALTH_CHECK_PAYLOAD)).toBe('test');
  });

  it('reads any non-empty string, from text or bytes', () => {
    expect(HealthCheckContract.parse('test')).toBe('test');
    expect(HealthCheckContract.parse(Buffer.from('test'))).toBe('test');
    expect(HealthCheckContract.parse('"test"')).toBe('"test"');
  });

  it.each([
    ['null', null],
    ['an empty value', ''],
  ])('rejects %s', (_, raw) => {
    expect(violationOf(() => HealthCheckContract.parse(raw)).issues[0]?.path).toBe('');
  });

  it('validates only strings', () => {
    expect(violationOf(() => HealthCheckContract.validate(42)).message).toBe(
      'Invalid HealthCheck message: expected a non-empty string, got number',
    );
  });
});
