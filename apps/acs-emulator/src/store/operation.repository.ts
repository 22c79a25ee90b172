/** `EmailSendStatus` of the ACS REST API (spelled as on the wire). */
export type OperationStatus = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
export type TerminalOutcome = 'Succeeded' | 'Failed';

export interface OperationError {
  readonly code: string;
  readonly message: string;
}

/** An operation the emulator accepted (answered 202). Its status is derived from the clock, so no timers run. */
export interface AcceptedOperation {
  readonly acceptedAt: number;
  /** `NotStarted` before this instant, `Running` from it until `completesAt`. */
  readonly startsAt: number;
  readonly completesAt: number;
  readonly outcome: TerminalOutcome;
  readonly error?: OperationError;
  readonly ruleId?: string;
  /** Sequence number of the recorded message. */
  readonly messageSeq: number;
}

/** Everything known about one operation id, including POSTs that were refused before an operation existed. */
export interface OperationEntry {
  readonly id: string;
  readonly firstSeenAt: number;
  /** Authenticated, well-formed `POST /emails:send` requests that carried (or were given) this id. */
  posts: number;
  /** How many times a message was recorded under this id; more than 1 only with de-duplication off. */
  messagesRecorded: number;
  accepted: AcceptedOperation | undefined;
}

export interface OperationCounters {
  /** Operations accepted (202 with a new operation). */
  readonly operations: number;
  readonly distinctOperationIds: number;
  /** Operation ids that got more than one POST. */
  readonly duplicateSends: number;
  /** Operation ids under which a message was recorded more than once. */
  readonly notificationsSentMoreThanOnce: number;
  /** Entries dropped because the store was full (oldest first). */
  readonly evicted: number;
}

export function operationStatus(operation: AcceptedOperation, now: number): OperationStatus {
  if (now < operation.startsAt) return 'NotStarted';
  if (now < operation.completesAt) return 'Running';
  return operation.outcome;
}

const MAX_LISTED_DUPLICATES = 10_000;

/**
 * Operations by id, in memory, bounded to `capacity` entries (the oldest are evicted). Lookups and updates are
 * O(1); counters are kept incrementally so that statistics never scan.
 */
export class OperationRepository {
  private readonly entries = new Map<string, OperationEntry>();
  /** Ids with more than one POST, and ids with more than one recorded message, for the duplicates listing. */
  private readonly duplicateIds = new Set<string>();
  private readonly resentIds = new Set<string>();
  private counters = emptyCounters();

  constructor(private readonly capacity: number) {}

  get(id: string): OperationEntry | undefined {
    return this.entries.get(id);
  }

  /** Counts one POST carrying `id`, creating its entry on first sight. */
  notePost(id: string, now: number): OperationEntry {
    let entry = this.entries.get(id);
    if (entry === undefined) {
      entry = { id, firstSeenAt: now, posts: 0, messagesRecorded: 0, accepted: undefined };
      this.entries.set(id, entry);
      this.counters.distinctOperationIds += 1;
      this.evictOverflow();
    }
    entry.posts += 1;
    if (entry.posts === 2) {
      this.counters.duplicateSends += 1;
      if (this.duplicateIds.size < MAX_LISTED_DUPLICATES) this.duplicateIds.add(id);
    }
    return entry;
  }

  /** Records that a message went out under this entry's id. */
  accept(entry: OperationEntry, operation: AcceptedOperation): void {
    if (entry.accepted === undefined) this.counters.operations += 1;
    entry.accepted = operation;
    entry.messagesRecorded += 1;
    if (entry.messagesRecorded === 2) {
      this.counters.notificationsSentMoreThanOnce += 1;
      if (this.resentIds.size < MAX_LISTED_DUPLICATES) this.resentIds.add(entry.id);
    }
  }

  counts(): OperationCounters {
    return { ...this.counters };
  }

  /** Status counts over every stored operation: O(operations), for the inspection API only. */
  statusCounts(now: number): Record<OperationStatus, number> {
    const counts: Record<OperationStatus, number> = {
      NotStarted: 0,
      Running: 0,
      Succeeded: 0,
      Failed: 0,
      Canceled: 0,
    };
    for (const entry of this.entries.values())
      if (entry.accepted) counts[operationStatus(entry.accepted, now)] += 1;
    return counts;
  }

  duplicates(): { duplicateSends: OperationEntry[]; sentMoreThanOnce: OperationEntry[] } {
    const resolve = (ids: Set<string>) =>
      [...ids].flatMap((id) => {
        const entry = this.entries.get(id);
        return entry ? [entry] : [];
      });
    return { duplicateSends: resolve(this.duplicateIds), sentMoreThanOnce: resolve(this.resentIds) };
  }

  clear(): void {
    this.entries.clear();
    this.duplicateIds.clear();
    this.resentIds.clear();
    this.counters = emptyCounters();
  }

  private evictOverflow(): void {
    // A Map iterates in insertion order, so the first key is the oldest entry.
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) return;
      this.entries.delete(oldest.value);
      this.duplicateIds.delete(oldest.value);
      this.resentIds.delete(oldest.value);
      this.counters.evicted += 1;
    }
  }
}

function emptyCounters(): { -readonly [K in keyof OperationCounters]: number } {
  return {
    operations: 0,
    distinctOperationIds: 0,
    duplicateSends: 0,
    notificationsSentMoreThanOnce: 0,
    evicted: 0,
  };
}
