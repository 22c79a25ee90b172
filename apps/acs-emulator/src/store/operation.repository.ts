import { findUuidSlot, placeUuidSlot, sameUuidWords, writeUuidWords } from '../common/uuid-words';

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
  readonly posts: number;
  /** How many times a message was recorded under this id; more than 1 only with de-duplication off. */
  readonly messagesRecorded: number;
  readonly accepted: AcceptedOperation | undefined;
  /** Where the entry lives in the table (for `accept`). */
  readonly slot: number;
}

export interface OperationCounters {
  /** Operations accepted (202 with a new operation). */
  readonly operations: number;
  readonly distinctOperationIds: number;
  /** Operation ids that got more than one POST. */
  readonly duplicateSends: number;
  /** Operation ids under which a message was recorded more than once. */
  readonly notificationsSentMoreThanOnce: number;
  /** Always 0: ids are kept from the last reset on (kept in the stats for the shape's sake). */
  readonly evicted: number;
}

export function operationStatus(operation: AcceptedOperation, now: number): OperationStatus {
  if (now < operation.startsAt) return 'NotStarted';
  if (now < operation.completesAt) return 'Running';
  return operation.outcome;
}

const MAX_LISTED_DUPLICATES = 10_000;
const INITIAL_CAPACITY = 1024;
/** Longest delay a rule or setting can give an operation (the config and rule schemas cap delays at a day). */
const MAX_DELAY_MS = 0xffff_ffff;

/** The id's 128 bits as four 32-bit words; a module-level scratch so that lookups allocate nothing. */
const scratch = new Uint32Array(4);

/** Parses a lower-case UUID into `scratch`; false for anything else (no operation can have such an id). */
function parseId(id: string): boolean {
  return writeUuidWords(id, scratch);
}

/**
 * Every operation id seen since the last reset (all of them: the duplicate check must stay exact), in a compact
 * table of typed arrays rather than a Map of objects: 16 bytes of id plus ~42 bytes of state per id, and an open
 * addressing index of 4–8 bytes — about 60–110 bytes per id, against ~500 for a Map of strings and objects. So a
 * status can be polled for every operation since the last reset (ACS documents no retention for the operation
 * status resource; clients poll minutes, not days), and 1 000 000 ids take ~100 MB at most.
 *
 * Ids are UUIDs (the send path refuses any other `Operation-Id`, and mints UUIDs itself); lookups and updates are
 * O(1), counters are kept incrementally so that statistics never scan.
 */
export class OperationRepository {
  private capacity = 0;
  private count = 0;
  private keys = new Uint32Array(0);
  private firstSeenAt = new Float64Array(0);
  /** NaN while no operation was accepted under the id. */
  private acceptedAt = new Float64Array(0);
  private startsAfter = new Uint32Array(0);
  private completesAfter = new Uint32Array(0);
  private posts = new Uint32Array(0);
  private recorded = new Uint32Array(0);
  /** Index into `results`. */
  private result = new Uint16Array(0);
  /** 0 = no rule, else 1 + index into `ruleIds`. */
  private rule = new Uint32Array(0);
  private messageSeq = new Float64Array(0);
  /** Open addressing, linear probing: slot + 1, 0 = empty. At most half full. */
  private index = new Int32Array(0);

  /** The distinct outcomes (few): index 0 is success, the rest failures with their error. */
  private results: { outcome: TerminalOutcome; error?: OperationError }[] = [{ outcome: 'Succeeded' }];
  private readonly resultIndex = new Map<string, number>();
  private ruleIds: string[] = [];
  private readonly ruleIndex = new Map<string, number>();

  /** Ids with more than one POST, and ids with more than one recorded message, for the duplicates listing. */
  private readonly duplicateIds = new Set<string>();
  private readonly resentIds = new Set<string>();
  private counters = emptyCounters();

  constructor() {
    this.allocate(INITIAL_CAPACITY);
  }

  get size(): number {
    return this.count;
  }

  get(id: string): OperationEntry | undefined {
    if (!parseId(id)) return undefined;
    const slot = this.find();
    return slot < 0 ? undefined : this.entryAt(slot, id);
  }

  /** Counts one POST carrying `id` (a lower-case UUID), creating its entry on first sight. */
  notePost(id: string, now: number): OperationEntry {
    if (!parseId(id)) throw new TypeError(`operation ids are UUIDs, got ${JSON.stringify(id)}`);
    let slot = this.find();
    if (slot < 0) {
      slot = this.insert(now);
      this.counters.distinctOperationIds += 1;
    }
    const posts = (this.posts[slot] ?? 0) + 1;
    this.posts[slot] = posts;
    if (posts === 2) {
      this.counters.duplicateSends += 1;
      if (this.duplicateIds.size < MAX_LISTED_DUPLICATES) this.duplicateIds.add(id);
    }
    return this.entryAt(slot, id);
  }

  /** Records that a message went out under this entry's id. */
  accept(entry: OperationEntry, operation: AcceptedOperation): void {
    const slot = this.slotOf(entry, operation.acceptedAt);
    if (Number.isNaN(this.acceptedAt[slot])) this.counters.operations += 1;
    this.acceptedAt[slot] = operation.acceptedAt;
    this.startsAfter[slot] = clampDelay(operation.startsAt - operation.acceptedAt);
    this.completesAfter[slot] = clampDelay(operation.completesAt - operation.acceptedAt);
    this.result[slot] = this.resultId(operation);
    this.rule[slot] = operation.ruleId === undefined ? 0 : this.ruleId(operation.ruleId);
    this.messageSeq[slot] = operation.messageSeq;
    const recorded = (this.recorded[slot] ?? 0) + 1;
    this.recorded[slot] = recorded;
    if (recorded === 2) {
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
    for (let slot = 0; slot < this.count; slot += 1) {
      const acceptedAt = this.acceptedAt[slot] ?? Number.NaN;
      if (Number.isNaN(acceptedAt)) continue;
      if (now < acceptedAt + (this.startsAfter[slot] ?? 0)) counts.NotStarted += 1;
      else if (now < acceptedAt + (this.completesAfter[slot] ?? 0)) counts.Running += 1;
      else counts[this.results[this.result[slot] ?? 0]?.outcome ?? 'Succeeded'] += 1;
    }
    return counts;
  }

  duplicates(): { duplicateSends: OperationEntry[]; sentMoreThanOnce: OperationEntry[] } {
    const resolve = (ids: Set<string>) =>
      [...ids].flatMap((id) => {
        const entry = this.get(id);
        return entry ? [entry] : [];
      });
    return { duplicateSends: resolve(this.duplicateIds), sentMoreThanOnce: resolve(this.resentIds) };
  }

  clear(): void {
    this.count = 0;
    this.allocate(INITIAL_CAPACITY);
    this.results = [{ outcome: 'Succeeded' }];
    this.resultIndex.clear();
    this.ruleIds = [];
    this.ruleIndex.clear();
    this.duplicateIds.clear();
    this.resentIds.clear();
    this.counters = emptyCounters();
  }

  private entryAt(slot: number, id: string): OperationEntry {
    const acceptedAt = this.acceptedAt[slot] ?? Number.NaN;
    let accepted: AcceptedOperation | undefined;
    if (!Number.isNaN(acceptedAt)) {
      const result = this.results[this.result[slot] ?? 0] ?? { outcome: 'Succeeded' };
      const rule = this.rule[slot] ?? 0;
      accepted = {
        acceptedAt,
        startsAt: acceptedAt + (this.startsAfter[slot] ?? 0),
        completesAt: acceptedAt + (this.completesAfter[slot] ?? 0),
        outcome: result.outcome,
        ...(result.error === undefined ? {} : { error: result.error }),
        ...(rule === 0 ? {} : { ruleId: this.ruleIds[rule - 1] }),
        messageSeq: this.messageSeq[slot] ?? 0,
      };
    }
    return {
      id,
      slot,
      firstSeenAt: this.firstSeenAt[slot] ?? 0,
      posts: this.posts[slot] ?? 0,
      messagesRecorded: this.recorded[slot] ?? 0,
      accepted,
    };
  }

  /**
   * The entry's slot, checked: a reset between reading the entry and accepting it must not write into whatever
   * id now occupies that slot.
   */
  private slotOf(entry: OperationEntry, now: number): number {
    if (!parseId(entry.id)) throw new TypeError(`operation ids are UUIDs, got ${JSON.stringify(entry.id)}`);
    if (entry.slot < this.count && sameUuidWords(this.keys, entry.slot * 4, scratch)) return entry.slot;
    const found = this.find();
    return found >= 0 ? found : this.insert(now);
  }

  /** The slot of the id in `scratch`, or -1. */
  private find(): number {
    return findUuidSlot(this.index, this.keys, scratch);
  }

  /** Adds the id in `scratch` (known to be absent). */
  private insert(now: number): number {
    if (this.count === this.capacity) this.allocate(this.capacity * 2);
    const slot = this.count;
    this.count += 1;
    this.keys.set(scratch, slot * 4);
    this.firstSeenAt[slot] = now;
    this.acceptedAt[slot] = Number.NaN;
    this.place(slot);
    return slot;
  }

  private place(slot: number): void {
    placeUuidSlot(this.index, this.keys, slot);
  }

  /** Grows (or, from a reset, shrinks) every array to `capacity` slots and rebuilds the index. */
  private allocate(capacity: number): void {
    const grow = <T extends Uint32Array | Float64Array | Uint16Array>(
      old: T,
      make: (length: number) => T,
      perSlot = 1,
    ): T => {
      const next = make(capacity * perSlot);
      next.set(old.subarray(0, Math.min(old.length, this.count * perSlot)));
      return next;
    };
    this.keys = grow(this.keys, (n) => new Uint32Array(n), 4);
    this.firstSeenAt = grow(this.firstSeenAt, (n) => new Float64Array(n));
    this.acceptedAt = grow(this.acceptedAt, (n) => new Float64Array(n));
    this.startsAfter = grow(this.startsAfter, (n) => new Uint32Array(n));
    this.completesAfter = grow(this.completesAfter, (n) => new Uint32Array(n));
    this.posts = grow(this.posts, (n) => new Uint32Array(n));
    this.recorded = grow(this.recorded, (n) => new Uint32Array(n));
    this.result = grow(this.result, (n) => new Uint16Array(n));
    this.rule = grow(this.rule, (n) => new Uint32Array(n));
    this.messageSeq = grow(this.messageSeq, (n) => new Float64Array(n));
    this.capacity = capacity;
    this.index = new Int32Array(capacity * 2);
    for (let slot = 0; slot < this.count; slot += 1) this.place(slot);
  }

  private resultId(operation: AcceptedOperation): number {
    if (operation.outcome === 'Succeeded' && operation.error === undefined) return 0;
    const key = `${operation.outcome}\n${operation.error?.code ?? ''}\n${operation.error?.message ?? ''}`;
    let id = this.resultIndex.get(key);
    if (id === undefined) {
      // Outcomes come from rules, whose errors a test could vary without end; past the Uint16 range the last
      // slot is reused, which only mislabels errors of a test that scripted 65 000 distinct ones.
      id = Math.min(this.results.length, 0xffff);
      this.results[id] = {
        outcome: operation.outcome,
        ...(operation.error === undefined ? {} : { error: operation.error }),
      };
      this.resultIndex.set(key, id);
    }
    return id;
  }

  private ruleId(ruleId: string): number {
    let id = this.ruleIndex.get(ruleId);
    if (id === undefined) {
      this.ruleIds.push(ruleId);
      id = this.ruleIds.length;
      this.ruleIndex.set(ruleId, id);
    }
    return id;
  }
}

function clampDelay(ms: number): number {
  return Math.min(Math.max(0, Math.round(ms)), MAX_DELAY_MS);
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
