/**
 * Processes one fetched batch of a single partition.
 *
 * - Messages with the same key run one after another in offset order; different keys may run concurrently, up to
 *   `concurrency` at a time (1 = strictly sequential).
 * - An offset is resolved (made committable) only when it and every offset before it in the batch are done,
 *   so a commit never passes a message that is still in flight or that failed.
 * - A message that is not due yet stops the batch there; the caller pauses the partition until it is due and
 *   re-reads from the first unresolved offset afterwards.
 * - `handle` throws only when a message's outcome could not be made durable (e.g. the broker is unreachable):
 *   nothing after it is launched, in-flight work is awaited, and the error is re-thrown so the consumer re-reads
 *   from the last resolved offset.
 */
export interface BatchItem {
  readonly offset: string;
  readonly key: string | undefined;
}

export interface PartitionBatchOptions<M extends BatchItem> {
  readonly messages: readonly M[];
  readonly concurrency: number;
  handle(message: M): Promise<void>;
  /** Epoch ms at which the message may be handled, or undefined when it is due now. */
  dueAt(message: M): number | undefined;
  /** False once the consumer stops or the partition was revoked; no new message is started then. */
  shouldContinue(): boolean;
  resolveOffset(offset: string): void;
  /** Called between launches so resolved offsets are committed periodically, not only at batch end. */
  commitIfNecessary(): Promise<void>;
  now?(): number;
}

export interface PartitionBatchResult {
  /** Set when the batch stopped at a message that is not due yet: resume the partition at this time. */
  readonly pausedUntil?: number;
  readonly handled: number;
}

export async function processPartitionBatch<M extends BatchItem>(
  options: PartitionBatchOptions<M>,
): Promise<PartitionBatchResult> {
  const { messages } = options;
  const now = options.now ?? Date.now;
  const concurrency = Math.max(1, options.concurrency);
  const finished: boolean[] = new Array<boolean>(messages.length).fill(false);
  const active = new Set<Promise<void>>();
  const lastTaskOfKey = new Map<string, Promise<void>>();
  let watermark = 0;
  let failure: { error: unknown } | undefined;
  let pausedUntil: number | undefined;
  let handled = 0;

  const advanceWatermark = (): void => {
    let resolvedThrough: string | undefined;
    while (watermark < messages.length && finished[watermark]) {
      resolvedThrough = messages[watermark]?.offset;
      watermark += 1;
    }
    if (resolvedThrough !== undefined) options.resolveOffset(resolvedThrough);
  };

  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index];
    if (message === undefined) break;
    if (failure || !options.shouldContinue()) break;

    const due = options.dueAt(message);
    if (due !== undefined && due > now()) {
      pausedUntil = due;
      break;
    }

    while (active.size >= concurrency) await Promise.race(active);
    if (failure || !options.shouldContinue()) break;
    await options.commitIfNecessary();

    const previousOfKey = message.key === undefined ? undefined : lastTaskOfKey.get(message.key);
    const task = (async () => {
      if (previousOfKey) await previousOfKey;
      // A failed predecessor leaves this message unhandled: it will be re-read with the rest of the batch.
      if (failure) return;
      try {
        await options.handle(message);
        finished[index] = true;
        handled += 1;
        advanceWatermark();
      } catch (error) {
        failure ??= { error };
      }
    })();
    const tracked = task.finally(() => {
      active.delete(tracked);
      if (message.key !== undefined && lastTaskOfKey.get(message.key) === tracked)
        lastTaskOfKey.delete(message.key);
    });
    active.add(tracked);
    if (message.key !== undefined) lastTaskOfKey.set(message.key, tracked);
  }

  await Promise.all(active);
  if (failure) throw failure.error;
  return pausedUntil === undefined ? { handled } : { pausedUntil, handled };
}

export interface PartitionChunkOptions<M extends BatchItem> {
  readonly messages: readonly M[];
  /** Most messages per chunk (at least 1). */
  readonly maxChunkSize: number;
  /**
   * Handles one chunk, in offset order. Resolves true when every message of the chunk has a durable outcome, false
   * when it stopped early (nothing after the chunk is started then, and the chunk's offsets are left to whatever it
   * resolved itself); throws when an outcome could not be made durable (nothing of the chunk is resolved here).
   */
  handleChunk(messages: readonly M[]): Promise<boolean>;
  dueAt(message: M): number | undefined;
  shouldContinue(): boolean;
  resolveOffset(offset: string): void;
  commitIfNecessary(): Promise<void>;
  now?(): number;
}

/**
 * Processes one fetched batch of a single partition in consecutive chunks of at most `maxChunkSize` messages, one
 * chunk at a time (so per-key order holds as long as `handleChunk` keeps the order inside a chunk). A chunk's last
 * offset is resolved only after the whole chunk has an outcome. A message that is not due yet ends the chunk before
 * it and the batch after that chunk, as in {@link processPartitionBatch}.
 */
export async function processPartitionChunks<M extends BatchItem>(
  options: PartitionChunkOptions<M>,
): Promise<PartitionBatchResult> {
  const { messages } = options;
  const now = options.now ?? Date.now;
  const maxChunkSize = Math.max(1, options.maxChunkSize);
  let index = 0;
  let handled = 0;
  let pausedUntil: number | undefined;
  while (index < messages.length && pausedUntil === undefined && options.shouldContinue()) {
    const chunk: M[] = [];
    while (index < messages.length && chunk.length < maxChunkSize) {
      const message = messages[index] as M;
      const due = options.dueAt(message);
      if (due !== undefined && due > now()) {
        pausedUntil = due;
        break;
      }
      chunk.push(message);
      index += 1;
    }
    const last = chunk[chunk.length - 1];
    if (last === undefined) break;
    await options.commitIfNecessary();
    if (!(await options.handleChunk(chunk))) return { handled };
    options.resolveOffset(last.offset);
    handled += chunk.length;
  }
  return pausedUntil === undefined ? { handled } : { pausedUntil, handled };
}
