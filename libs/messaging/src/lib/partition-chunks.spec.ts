import { processPartitionChunks, type BatchItem } from './partition-batch';

interface Item extends BatchItem {
  readonly dueAt?: number;
}

function items(count: number, dueAt: Record<number, number> = {}): Item[] {
  return Array.from({ length: count }, (_, index) => ({
    offset: String(index),
    key: `k${index % 3}`,
    ...(dueAt[index] === undefined ? {} : { dueAt: dueAt[index] }),
  }));
}

const base = {
  dueAt: (item: Item) => item.dueAt,
  shouldContinue: () => true,
  commitIfNecessary: async () => undefined,
  now: () => 1_000,
};

const offsets = (chunk: readonly Item[]): string[] => chunk.map((item) => item.offset);

describe(processPartitionChunks.name, () => {
  it('hands the batch over in chunks of at most maxChunkSize, in offset order, resolving each chunk after it', async () => {
    const events: string[] = [];
    const result = await processPartitionChunks({
      ...base,
      messages: items(5),
      maxChunkSize: 2,
      handleChunk: async (chunk) => {
        events.push(`handle ${offsets(chunk).join(',')}`);
        return true;
      },
      resolveOffset: (offset) => events.push(`resolve ${offset}`),
    });
    expect(events).toEqual(['handle 0,1', 'resolve 1', 'handle 2,3', 'resolve 3', 'handle 4', 'resolve 4']);
    expect(result).toEqual({ handled: 5 });
  });

  it('resolves nothing of a chunk whose handling throws, starts nothing after it, and re-throws', async () => {
    const resolved: string[] = [];
    const handled: string[][] = [];
    const failure = new Error('broker down');
    await expect(
      processPartitionChunks({
        ...base,
        messages: items(6),
        maxChunkSize: 2,
        handleChunk: async (chunk) => {
          handled.push(offsets(chunk));
          if (chunk[0]?.offset === '2') throw failure;
          return true;
        },
        resolveOffset: (offset) => resolved.push(offset),
      }),
    ).rejects.toBe(failure);
    expect(handled).toEqual([
      ['0', '1'],
      ['2', '3'],
    ]);
    expect(resolved).toEqual(['1']);
  });

  it('does not resolve a chunk that reports it stopped early, and stops there', async () => {
    const resolved: string[] = [];
    let calls = 0;
    const result = await processPartitionChunks({
      ...base,
      messages: items(6),
      maxChunkSize: 2,
      handleChunk: async () => {
        calls += 1;
        return calls < 2;
      },
      resolveOffset: (offset) => resolved.push(offset),
    });
    expect(calls).toBe(2);
    expect(resolved).toEqual(['1']);
    expect(result).toEqual({ handled: 2 });
  });

  it('cuts the chunk before a message that is not due, handles what came before, and reports when to resume', async () => {
    const handled: string[][] = [];
    const resolved: string[] = [];
    const result = await processPartitionChunks({
      ...base,
      messages: items(5, { 0: 500, 3: 5_000 }),
      maxChunkSize: 10,
      handleChunk: async (chunk) => {
        handled.push(offsets(chunk));
        return true;
      },
      resolveOffset: (offset) => resolved.push(offset),
    });
    expect(handled).toEqual([['0', '1', '2']]);
    expect(resolved).toEqual(['2']);
    expect(result).toEqual({ pausedUntil: 5_000, handled: 3 });
  });

  it('starts no chunk once it should not continue (stop, revocation)', async () => {
    let active = true;
    const handled: string[][] = [];
    const result = await processPartitionChunks({
      ...base,
      messages: items(4),
      maxChunkSize: 2,
      shouldContinue: () => active,
      handleChunk: async (chunk) => {
        handled.push(offsets(chunk));
        active = false;
        return true;
      },
      resolveOffset: () => undefined,
    });
    expect(handled).toEqual([['0', '1']]);
    expect(result).toEqual({ handled: 2 });
  });
});
