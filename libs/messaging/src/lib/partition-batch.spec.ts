import { processPartitionBatch, type BatchItem } from './partition-batch';

interface Item extends BatchItem {
  readonly dueAt?: number;
}

function items(keys: (string | undefined)[]): Item[] {
  return keys.map((key, index) => ({ offset: String(index), key }));
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: unknown): void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const base = {
  dueAt: (item: Item) => item.dueAt,
  shouldContinue: () => true,
  commitIfNecessary: async () => undefined,
};

describe(processPartitionBatch.name, () => {
  it('resolves the last offset once every message of a sequential batch is handled', async () => {
    const handled: string[] = [];
    const resolved: string[] = [];
    const result = await processPartitionBatch({
      ...base,
      messages: items(['a', 'b', 'c']),
      concurrency: 1,
      handle: async (item) => {
        handled.push(item.offset);
      },
      resolveOffset: (offset) => resolved.push(offset),
    });
    expect(handled).toEqual(['0', '1', '2']);
    expect(resolved.at(-1)).toBe('2');
    expect(result).toEqual({ handled: 3 });
  });

  it('never resolves past an offset that is still in flight, even when later ones finish first', async () => {
    const slow = deferred();
    const resolved: string[] = [];
    const run = processPartitionBatch({
      ...base,
      messages: items(['a', 'b', 'c']),
      concurrency: 3,
      handle: async (item) => {
        if (item.offset === '0') await slow.promise;
      },
      resolveOffset: (offset) => resolved.push(offset),
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toEqual([]);
    slow.resolve();
    await run;
    expect(resolved).toEqual(['2']);
  });

  it('runs messages with the same key one after another, in offset order', async () => {
    const events: string[] = [];
    await processPartitionBatch({
      ...base,
      messages: items(['k', 'k', 'other', 'k']),
      concurrency: 4,
      handle: async (item) => {
        events.push(`start ${item.offset}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`end ${item.offset}`);
      },
      resolveOffset: () => undefined,
    });
    const order = (label: string) => events.indexOf(label);
    expect(order('end 0')).toBeLessThan(order('start 1'));
    expect(order('end 1')).toBeLessThan(order('start 3'));
    // A different key is not held back by the chain.
    expect(order('start 2')).toBeLessThan(order('end 0'));
  });

  it('keeps at most `concurrency` messages in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    await processPartitionBatch({
      ...base,
      messages: items(Array.from({ length: 20 }, (_, i) => `key-${i}`)),
      concurrency: 4,
      handle: async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight -= 1;
      },
      resolveOffset: () => undefined,
    });
    expect(peak).toBe(4);
  });

  it('stops at a failure, resolves only what came before it, and rethrows', async () => {
    const resolved: string[] = [];
    const handled: string[] = [];
    const failure = new Error('broker unreachable');
    await expect(
      processPartitionBatch({
        ...base,
        messages: items(['a', 'b', 'c', 'd']),
        concurrency: 1,
        handle: async (item) => {
          if (item.offset === '2') throw failure;
          handled.push(item.offset);
        },
        resolveOffset: (offset) => resolved.push(offset),
      }),
    ).rejects.toBe(failure);
    expect(handled).toEqual(['0', '1']);
    expect(resolved.at(-1)).toBe('1');
  });

  it('does not run a message whose same-key predecessor failed', async () => {
    const handled: string[] = [];
    await expect(
      processPartitionBatch({
        ...base,
        messages: items(['k', 'k']),
        concurrency: 2,
        handle: async (item) => {
          if (item.offset === '0') throw new Error('fail');
          handled.push(item.offset);
        },
        resolveOffset: () => undefined,
      }),
    ).rejects.toThrow('fail');
    expect(handled).toEqual([]);
  });

  it('stops at the first message that is not due and reports when to resume', async () => {
    const now = 1_000_000;
    const handled: string[] = [];
    const resolved: string[] = [];
    const messages: Item[] = [
      { offset: '0', key: 'a', dueAt: now - 10 },
      { offset: '1', key: 'b', dueAt: now + 5_000 },
      { offset: '2', key: 'c', dueAt: now - 10 },
    ];
    const result = await processPartitionBatch({
      ...base,
      messages,
      concurrency: 1,
      now: () => now,
      handle: async (item) => {
        handled.push(item.offset);
      },
      resolveOffset: (offset) => resolved.push(offset),
    });
    expect(handled).toEqual(['0']);
    expect(resolved).toEqual(['0']);
    expect(result).toEqual({ pausedUntil: now + 5_000, handled: 1 });
  });

  it('starts nothing new once told to stop, but finishes what is in flight', async () => {
    let running = true;
    const handled: string[] = [];
    await processPartitionBatch({
      ...base,
      messages: items(['a', 'b', 'c']),
      concurrency: 1,
      shouldContinue: () => running,
      handle: async (item) => {
        running = false;
        await new Promise((resolve) => setTimeout(resolve, 5));
        handled.push(item.offset);
      },
      resolveOffset: () => undefined,
    });
    expect(handled).toEqual(['0']);
  });
});
