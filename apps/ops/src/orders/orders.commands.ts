import {
  InternalApiPaths,
  isFinalOrderStatus,
  OperatorOrderPage,
  OperatorOrderView,
  operatorOrderPath,
  OrderProgressResponse,
  OrderWithStatusResponse,
  type HaltedResponse,
  type OperatorOrderSummary,
} from '@notifications/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command } from 'commander';
import { CliError } from '../cli/cli-error';
import { orderIdArgument, positiveInt, type CommandContext } from '../cli/command-context';
import { formatTable, type Output } from '../cli/output';
import { type InternalApiClient } from '../http/internal-api.client';

interface JsonOption {
  readonly json?: boolean;
}

/** What `orders show` (and `orders halt`/`cancel` without `--yes`) reports: the order and its progress. */
interface OrderDetails {
  readonly order: OperatorOrderView;
  readonly progress: OrderProgressResponse;
}

// The search endpoint's largest page (`pageSize`); `--limit` beyond it reads the following pages.
const MAX_PAGE_SIZE = 200;
// Progress snapshots read at once for `orders list` (one database read each on orders' side).
const PROGRESS_CONCURRENCY = 4;
// Until the server has sent its own `retry:` (ORDERS_PROGRESS_RETRY, 3 s by default).
const DEFAULT_RETRY_MS = 3_000;

async function details(client: InternalApiClient, id: string): Promise<OrderDetails> {
  const [order, progress] = await Promise.all([
    client.get(operatorOrderPath(id), OperatorOrderView),
    client.get(operatorOrderPath(id, '/progress'), OrderProgressResponse),
  ]);
  return { order, progress };
}

/**
 * Without `--yes`, a change to an order only shows the order as it stands and exits 1 (as `dlq purge` does), so a
 * mistyped id never halts or cancels anything.
 */
async function requireConfirmation(
  client: InternalApiClient,
  output: Output,
  id: string,
  options: { readonly yes?: boolean },
  verb: 'halt' | 'cancel',
  done: 'halted' | 'cancelled',
): Promise<void> {
  if (options.yes === true) return;
  const shown = await details(client, id);
  output.result(shown, () => `Would ${verb}:\n${renderDetails(shown)}`);
  throw new CliError(`Nothing ${done}: add --yes to ${verb} this order`, 1);
}

function eta(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3_600).toFixed(1)} h`;
}

function haltedLine(halted: HaltedResponse): string {
  return `Halted at ${halted.at}: sent ${halted.sent}, withheld ${halted.withheld}, in flight ${halted.inFlight}`;
}

function renderDetails({ order, progress }: OrderDetails): string {
  const counts = Object.entries(progress.counts).map(([status, count]) => ({ status, count }));
  return [
    `Order ${order.id}: ${progress.orderStatus}`,
    `Creator ${order.creator}${order.sendersReference === undefined ? '' : `, senders reference ${order.sendersReference}`}; created ${order.created}; send time ${order.requestedSendTime}`,
    `Subject: ${order.subject}`,
    `Final ${progress.final}/${progress.total}; ${progress.ratePerSecond}/s; ETA ${eta(progress.etaSeconds)} (at ${progress.updatedAt})`,
    ...(progress.rateLimitPausedUntil === null
      ? []
      : [`Email rate-limit pause until ${progress.rateLimitPausedUntil}: nothing is sent before`]),
    ...(order.halted === undefined ? [] : [haltedLine(order.halted)]),
    ...(order.lastError === undefined ? [] : [`Last error: ${order.lastError}`]),
    ...(counts.length === 0
      ? []
      : [
          '',
          formatTable(
            [
              { key: 'status', header: 'STATUS' },
              { key: 'count', header: 'NOTIFICATIONS' },
            ],
            counts,
          ),
        ]),
  ].join('\n');
}

/** One line per snapshot while watching: time, status, final/total, rate, ETA, counts. */
function snapshotLine(progress: OrderProgressResponse): string {
  const counts = Object.entries(progress.counts)
    .map(([status, count]) => `${status}=${count}`)
    .join(' ');
  return [
    progress.updatedAt,
    progress.orderStatus,
    `${progress.final}/${progress.total} final`,
    `${progress.ratePerSecond}/s`,
    `ETA ${eta(progress.etaSeconds)}`,
    ...(progress.rateLimitPausedUntil === null ? [] : [`paused until ${progress.rateLimitPausedUntil}`]),
    counts,
  ]
    .join('  ')
    .trimEnd();
}

/** At most `limit` orders, newest first, following the search's `next` cursor past one page. */
async function search(
  client: InternalApiClient,
  filter: { creator?: string; sendersReference?: string },
  limit: number,
): Promise<{ orders: OperatorOrderSummary[]; more: boolean }> {
  const orders: OperatorOrderSummary[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({
      ...(filter.creator === undefined ? {} : { creator: filter.creator }),
      ...(filter.sendersReference === undefined ? {} : { sendersReference: filter.sendersReference }),
      ...(cursor === undefined ? {} : { cursor }),
      pageSize: String(Math.min(MAX_PAGE_SIZE, limit - orders.length)),
    });
    const page = await client.get(`${InternalApiPaths.ordersOrders}?${query.toString()}`, OperatorOrderPage);
    orders.push(...page.orders);
    cursor = page.next;
  } while (cursor !== undefined && orders.length < limit);
  return { orders, more: cursor !== undefined };
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function registerOrdersCommands(program: Command, context: CommandContext): void {
  const orders = program
    .command('orders')
    .description('notification orders of any creator: search, progress, halt, cancel');

  orders
    .command('list')
    .description(
      'orders by creator and/or senders reference, newest first, with how many notifications are final',
    )
    .option('--creator <org>', "only this creator's orders (the org code)")
    .option('--senders-reference <ref>', 'only orders with this senders reference')
    .option('--limit <n>', 'at most this many orders', positiveInt, 50)
    .option('--json', 'machine-readable output')
    .action(async (options: JsonOption & { creator?: string; sendersReference?: string; limit: number }) => {
      const client = context.orders();
      const found = await search(client, options, options.limit);
      // The search answers what the orders table holds; final/total is each order's progress snapshot.
      const rows = await mapLimited(found.orders, PROGRESS_CONCURRENCY, async (order) => {
        const progress = await client.get(operatorOrderPath(order.id, '/progress'), OrderProgressResponse);
        return { ...order, final: progress.final, total: progress.total };
      });
      const output = context.output(options);
      output.result({ orders: rows, more: found.more }, () =>
        formatTable(
          [
            { key: 'id', header: 'ID' },
            { key: 'creator', header: 'CREATOR' },
            { key: 'sendersReference', header: 'SENDERS REFERENCE' },
            { key: 'processingStatus', header: 'STATUS' },
            { key: 'created', header: 'CREATED' },
            { key: 'finalOfTotal', header: 'FINAL/TOTAL', align: 'right' },
          ],
          rows.map((row) => ({ ...row, finalOfTotal: `${row.final}/${row.total}` })),
        ),
      );
      if (found.more)
        output.note(`More orders match: raise --limit (${options.limit}) or narrow the search.`);
    });

  orders
    .command('show')
    .description("an order's progress: notifications per status, final/total, rate, ETA, halt")
    .argument('<id>', 'the order id', orderIdArgument)
    .option('--watch', 'follow the progress (a line per change) until the order is final; Ctrl-C ends it')
    .option('--json', 'machine-readable output (with --watch: one JSON snapshot per line)')
    .action(async (id: string, options: JsonOption & { watch?: boolean }) => {
      if (options.watch === true) {
        await watch(context, id, options.json === true);
        return;
      }
      const shown = await details(context.orders(), id);
      context.output(options).result(shown, () => renderDetails(shown));
    });

  orders
    .command('halt')
    .description(
      'halt an order mid-flight: unsent emails are withheld (Cancelled), sends already started finish (README of orders, "Halt")',
    )
    .argument('<id>', 'the order id', orderIdArgument)
    .option('--yes', 'really halt (without it, only show what would be halted)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: JsonOption & { yes?: boolean }) => {
      const client = context.orders();
      const output = context.output(options);
      await requireConfirmation(client, output, id, options, 'halt', 'halted');
      const answer = await client.put(operatorOrderPath(id, '/halt'), OrderWithStatusResponse);
      output.result(answer, () =>
        [
          `Order ${answer.id}: ${answer.processingStatus.status} (${answer.processingStatus.description})`,
          // The endpoint always answers a halted order; its counts say what the halt caught.
          ...(answer.halted === undefined ? [] : [haltedLine(answer.halted)]),
        ].join('\n'),
      );
      if (answer.halted !== undefined && answer.halted.inFlight > 0) {
        output.note(
          `${answer.halted.inFlight} send(s) had started and settle on their own; \`orders show ${answer.id} --watch\` follows them until the order is Cancelled.`,
        );
      }
    });

  orders
    .command('cancel')
    .description('cancel an order that is still Registered (nothing sent yet); later, use `orders halt`')
    .argument('<id>', 'the order id', orderIdArgument)
    .option('--yes', 'really cancel (without it, only show what would be cancelled)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: JsonOption & { yes?: boolean }) => {
      const client = context.orders();
      const output = context.output(options);
      await requireConfirmation(client, output, id, options, 'cancel', 'cancelled');
      const answer = await client.put(operatorOrderPath(id, '/cancel'), OperatorOrderView);
      output.result(answer, () => `Order ${answer.id}: ${answer.processingStatus}`);
    });
}

/**
 * Follows the order's progress stream, a line per snapshot, until a final one. The server ends a stream after
 * ORDERS_PROGRESS_MAX_STREAM_DURATION (30 min by default): then it reconnects after the server's `retry:`, with
 * Last-Event-ID, so no snapshot is printed twice. Ctrl-C ends it cleanly (exit code 0).
 */
async function watch(context: CommandContext, id: string, json: boolean): Promise<void> {
  const client = context.orders();
  const interrupted = new AbortController();
  const stopListening = context.onInterrupt(() => interrupted.abort());
  const write = (progress: OrderProgressResponse): void => {
    context.io.stdout.write(`${json ? JSON.stringify(progress) : snapshotLine(progress)}\n`);
  };
  let lastEventId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;
  try {
    for (;;) {
      for await (const item of client.events(operatorOrderPath(id, '/progress'), OrderProgressResponse, {
        ...(lastEventId === undefined ? {} : { lastEventId }),
        signal: interrupted.signal,
      })) {
        if (item.kind === 'retry') {
          retryMs = item.ms;
          continue;
        }
        lastEventId = item.id ?? lastEventId;
        write(item.data);
        if (isFinalOrderStatus(item.data.orderStatus)) return;
      }
      if (interrupted.signal.aborted) return;
      await sleep(retryMs, undefined, { signal: interrupted.signal }).catch(() => undefined);
      if (interrupted.signal.aborted) return;
    }
  } finally {
    stopListening();
  }
}
