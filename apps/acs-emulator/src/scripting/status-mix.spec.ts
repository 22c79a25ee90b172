import { pickStatus } from './status-mix';

describe(pickStatus.name, () => {
  it('returns a single status as is', () => {
    expect(pickStatus('Bounced', 'op', 'a@example.org')).toBe('Bounced');
  });

  it('is deterministic per operation and recipient, and follows the weights', () => {
    const mix = { Delivered: 0.9, Bounced: 0.1 };
    const picks = Array.from({ length: 2000 }, (_, i) => pickStatus(mix, `op-${i}`, 'a@example.org'));

    expect(Array.from({ length: 2000 }, (_, i) => pickStatus(mix, `op-${i}`, 'A@example.org'))).toEqual(
      picks,
    );
    const bounced = picks.filter((status) => status === 'Bounced').length;
    expect(bounced).toBeGreaterThan(120);
    expect(bounced).toBeLessThan(280);
  });

  it('never picks a status with weight 0', () => {
    const picks = Array.from({ length: 200 }, (_, i) =>
      pickStatus({ Delivered: 0, Failed: 2 }, `op-${i}`, 'x'),
    );
    expect(new Set(picks)).toEqual(new Set(['Failed']));
  });
});
