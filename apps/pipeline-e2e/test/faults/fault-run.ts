import { NotificationLedger } from '../support/notification-ledger';
import { type Pipeline } from '../support/pipeline';

/** One row of the fault table. */
export interface FaultResult {
  readonly fault: string;
  readonly notifications: number;
  readonly final: number;
  /** Notifications that never reached a final state, or that the database does not have. */
  readonly lost: number;
  /** Notifications the emulator recorded more than one email for. */
  readonly duplicated: number;
  /** Notifications whose Operation-Id was POSTed more than once (re-sends that ACS absorbs by id). */
  readonly resentSameId: number;
  readonly deadLettered: number;
  readonly malformedPublished: number;
  /** From the fault until the pipeline finalised notifications again; undefined if it never did. */
  readonly recoverMs: number | undefined;
  /** From the first order until every notification was final. */
  readonly totalMs: number;
  readonly unexpectedExits: readonly string[];
  readonly resultCounts: Readonly<Record<string, number>>;
  /** Cases with a status subscription: what its subscriber received (see FaultCase.verify). */
  readonly subscriberEvents?: SubscriberEventCheck;
}

/** What a subscriber received by the end of a case, de-duplicated by eventId. */
export interface SubscriberEventCheck {
  readonly received: number;
  /** Records that repeated an eventId already received (a redelivery after an unacknowledged send). */
  readonly redelivered: number;
  /** Changes that every notification and order goes through, missing at the subscriber. */
  readonly lost: number;
}

const RECIPIENTS_PER_ORDER = 1_000;

/** The notifications of one fault case: posted as orders of 1 000, all to addresses that succeed. */
export async function postOrders(
  pipeline: Pipeline,
  label: string,
  notifications: number,
): Promise<string[]> {
  const orderIds: string[] = [];
  for (let start = 0; start < notifications; start += RECIPIENTS_PER_ORDER) {
    const count = Math.min(RECIPIENTS_PER_ORDER, notifications - start);
    const recipients = Array.from({ length: count }, (_, index) => ({
      emailAddress: `${label}-${start + index}@faults.example.org`,
    }));
    orderIds.push(await pipeline.orders.postEmailOrder({ recipients, sendersReference: label }));
  }
  return orderIds;
}

/** Counts in the database, tolerating a database that is down for a moment (the PostgreSQL restart case). */
async function finalCount(
  ledger: NotificationLedger,
  orderIds: readonly string[],
): Promise<number | undefined> {
  try {
    const total = await ledger.total(orderIds);
    return total - (await ledger.pending(orderIds));
  } catch {
    return undefined;
  }
}

/** Waits until `predicate` holds, polling; returns false on timeout. */
export async function waitFor(
  predicate: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return false;
}

/**
 * Records of every dead-letter topic of the run (high − low watermark summed). Retried with fresh metadata: after a
 * broker of a cluster restarts, leadership moves back to it and kafkajs' admin answers NOT_LEADER once instead of
 * refreshing its metadata.
 */
export async function deadLetterCount(pipeline: Pipeline): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await deadLetterCountOnce(pipeline);
    } catch (error) {
      const retriable = error instanceof Error && 'retriable' in error && error.retriable === true;
      if (!retriable || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

async function deadLetterCountOnce(pipeline: Pipeline): Promise<number> {
  return pipeline.withKafka(async ({ admin, runTopics }) => {
    let total = 0;
    for (const topic of (await runTopics()).filter((name) => name.includes('.deadletter'))) {
      for (const partition of await admin.fetchTopicOffsets(topic)) {
        total += Number(partition.high) - Number(partition.low);
      }
    }
    return total;
  });
}

/** How far the case's run is, for faults that wait for the pipeline to make progress while they last. */
export interface RunProgress {
  readonly notifications: number;
  /** Notifications final so far; undefined while the database does not answer. */
  readonly finalCount: () => Promise<number | undefined>;
}

export interface FaultCase {
  readonly name: string;
  /** Injects the fault and undoes it (restart); resolves when the faulty part is back. */
  readonly inject: (
    pipeline: Pipeline,
    progress: RunProgress,
  ) => Promise<{ malformedPublished?: number } | void>;
  /** Fraction of notifications final before the fault is injected (default 0.2). */
  readonly injectAtFraction?: number;
  /** Apps the case kills on purpose (their exits are not crashes). */
  readonly killed?: readonly string[];
  /** Runs once the pipeline is up, before the orders are posted (e.g. a status subscription). */
  readonly prepare?: (pipeline: Pipeline) => Promise<void>;
  /** Runs once every notification is final: checks what else the case must have delivered. */
  readonly verify?: (pipeline: Pipeline, orderIds: readonly string[]) => Promise<SubscriberEventCheck>;
}

/**
 * Drives one fault case: post the orders, wait until the run is in flight, inject the fault, then wait until
 * every notification is final (or the deadline) and account for each one: final, lost, duplicated, dead-lettered.
 */
export async function runFaultCase(
  pipeline: Pipeline,
  faultCase: FaultCase,
  options: { notifications: number; deadlineMs: number },
): Promise<FaultResult> {
  const ledger = new NotificationLedger(pipeline.query);
  await faultCase.prepare?.(pipeline);
  const startedAt = Date.now();
  const orderIds = await postOrders(pipeline, pipeline.suffix, options.notifications);
  const threshold = Math.floor(options.notifications * (faultCase.injectAtFraction ?? 0.2));
  await waitFor(async () => ((await finalCount(ledger, orderIds)) ?? 0) >= threshold, options.deadlineMs);

  const faultAt = Date.now();
  const progress: RunProgress = {
    notifications: options.notifications,
    finalCount: () => finalCount(ledger, orderIds),
  };
  const injected = (await faultCase.inject(pipeline, progress)) ?? {};
  const finalAtRecovery = (await finalCount(ledger, orderIds)) ?? 0;
  let recoveredAt: number | undefined;
  let lastProgressAt = Date.now();
  const allFinal = await waitFor(
    async () => {
      const final = await finalCount(ledger, orderIds);
      if (Date.now() - lastProgressAt >= 5_000) {
        lastProgressAt = Date.now();
        const elapsed = ((Date.now() - faultAt) / 1000).toFixed(0);
        process.stderr.write(
          `[${faultCase.name}] ${elapsed} s after the fault: ${final ?? 'database unreachable'}/${options.notifications} final\n`,
        );
      }
      if (final === undefined) return false;
      if (recoveredAt === undefined && (final > finalAtRecovery || final === options.notifications)) {
        recoveredAt = Date.now();
      }
      return final === options.notifications;
    },
    options.deadlineMs - (Date.now() - startedAt),
    250,
  );
  const finishedAt = Date.now();

  const rows = await ledger.rows(orderIds);
  const resultCounts: Record<string, number> = {};
  for (const row of rows) resultCounts[row.result] = (resultCounts[row.result] ?? 0) + 1;
  const final = rows.filter((row) => !['New', 'Sending', 'Succeeded'].includes(row.result)).length;
  const perOperation = await pipeline.emulator.messagesPerOperation();
  const ids = new Set(rows.map((row) => row.id));
  const resent = (await pipeline.emulator.duplicates()).filter((entry) => ids.has(entry.id));
  const subscriberEvents = await faultCase.verify?.(pipeline, orderIds);
  return {
    fault: faultCase.name,
    notifications: options.notifications,
    final,
    lost: options.notifications - final,
    duplicated: rows.filter((row) => (perOperation.get(row.id) ?? 0) > 1).length,
    resentSameId: resent.length,
    deadLettered: await deadLetterCount(pipeline),
    malformedPublished: injected.malformedPublished ?? 0,
    recoverMs: recoveredAt === undefined ? undefined : recoveredAt - faultAt,
    totalMs: (allFinal ? finishedAt : Date.now()) - startedAt,
    unexpectedExits: pipeline.unexpectedExits.map(
      (exit) => `${exit.app} #${exit.replica} (${exit.signal ?? `exit ${String(exit.code)}`})`,
    ),
    resultCounts,
    ...(subscriberEvents === undefined ? {} : { subscriberEvents }),
  };
}
