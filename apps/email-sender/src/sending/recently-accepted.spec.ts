import { RecentlyAccepted } from './recently-accepted';

describe(RecentlyAccepted.name, () => {
  it('knows the ids it was told, up to its capacity, and forgets the oldest first', () => {
    const accepted = new RecentlyAccepted(3);
    for (const id of ['a', 'b', 'c']) accepted.remember(id);
    expect(['a', 'b', 'c'].map((id) => accepted.has(id))).toEqual([true, true, true]);

    accepted.remember('d');
    expect(['a', 'b', 'c', 'd'].map((id) => accepted.has(id))).toEqual([false, true, true, true]);

    accepted.remember('e');
    accepted.remember('f');
    accepted.remember('g');
    expect(['b', 'c', 'd', 'e', 'f', 'g'].map((id) => accepted.has(id))).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('does not count an id twice: remembering it again neither takes a slot nor makes it newer', () => {
    const accepted = new RecentlyAccepted(2);
    accepted.remember('a');
    accepted.remember('a');
    accepted.remember('b');
    expect([accepted.has('a'), accepted.has('b')]).toEqual([true, true]);
    accepted.remember('b');
    accepted.remember('c');
    expect([accepted.has('a'), accepted.has('b'), accepted.has('c')]).toEqual([false, true, true]);
  });

  it('keeps exactly the last `capacity` ids over many turns of the ring', () => {
    const accepted = new RecentlyAccepted(100);
    for (let i = 0; i < 1_050; i += 1) accepted.remember(`id-${i}`);
    expect(accepted.has('id-949')).toBe(false);
    expect(accepted.has('id-950')).toBe(true);
    expect(accepted.has('id-1049')).toBe(true);
  });

  it('refuses a capacity that holds nothing', () => {
    expect(() => new RecentlyAccepted(0)).toThrow(RangeError);
  });
});
