import { DueQueue } from './due-queue';

describe(DueQueue.name, () => {
  it('pops due items earliest first and keeps the rest', () => {
    const queue = new DueQueue<string>();
    for (const [at, item] of [
      [50, 'e'],
      [10, 'a'],
      [30, 'c'],
      [20, 'b'],
      [40, 'd'],
    ] as const)
      queue.push(at, item);

    expect(queue.peekDueAt()).toBe(10);
    expect(queue.popDue(30)).toEqual(['a', 'b', 'c']);
    expect(queue.size).toBe(2);
    expect(queue.popDue(100)).toEqual(['d', 'e']);
    expect(queue.peekDueAt()).toBeUndefined();
  });

  it('orders many random items', () => {
    const queue = new DueQueue<number>();
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    for (const value of values) queue.push(value, value);

    expect(queue.popDue(Infinity)).toEqual([...values].sort((a, b) => a - b));
  });
});
