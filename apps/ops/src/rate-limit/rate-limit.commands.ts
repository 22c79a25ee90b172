import {
  EmailSenderRateLimitClearResult,
  EmailSenderRateLimitView,
  InternalApiPaths,
  OrdersRateLimitClearResult,
  OrdersRateLimitView,
} from '@notifications/contracts';
import { type Command } from 'commander';
import { CliError } from '../cli/cli-error';
import { type CommandContext } from '../cli/command-context';
import { formatTable } from '../cli/output';
import { type InternalApiClient } from '../http/internal-api.client';

const ORDERS_PATH = InternalApiPaths.ordersRateLimit;
const EMAIL_SENDER_PATH = InternalApiPaths.emailSenderRateLimit;

interface AppResult {
  readonly app: string;
  readonly url: string;
  readonly ok: boolean;
  readonly paused?: boolean;
  readonly pausedUntil?: string | null;
  readonly source?: string | null;
  readonly cleared?: boolean;
  readonly error?: string;
}

async function call(
  client: InternalApiClient,
  path: string,
  request: (
    client: InternalApiClient,
  ) => Promise<
    | OrdersRateLimitView
    | OrdersRateLimitClearResult
    | EmailSenderRateLimitView
    | EmailSenderRateLimitClearResult
  >,
): Promise<AppResult> {
  try {
    return { app: client.app, url: client.url(path), ok: true, ...(await request(client)) };
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return { app: client.app, url: client.url(path), ok: false, error: error.message };
  }
}

function render(results: readonly AppResult[]): string {
  return formatTable(
    [
      { key: 'app', header: 'APP' },
      { key: 'state', header: 'STATE' },
      { key: 'pausedUntil', header: 'PAUSED UNTIL' },
      { key: 'source', header: 'SOURCE' },
      { key: 'url', header: 'URL' },
    ],
    results.map((result) => ({
      ...result,
      state: !result.ok
        ? `error: ${result.error ?? ''}`
        : result.cleared === true
          ? 'pause ended'
          : result.paused === true
            ? 'paused'
            : 'not paused',
    })),
  );
}

export function registerRateLimitCommands(program: Command, context: CommandContext): void {
  const rateLimit = program
    .command('rate-limit')
    .description(
      'the email rate-limit pause (ACS throttling), in orders (stored) and email-sender (in process)',
    );
  const finish = (options: { json?: boolean }, results: AppResult[]): void => {
    context.output(options).result({ apps: results }, () => render(results));
    if (results.some((result) => !result.ok)) context.exitCode = 1;
  };
  const targets = (app: string | undefined): ('orders' | 'email-sender')[] => {
    if (app === undefined) return ['orders', 'email-sender'];
    if (app === 'orders' || app === 'email-sender') return [app];
    throw new CliError(`--app: expected orders or email-sender, got ${JSON.stringify(app)}`, 2);
  };
  // `show` reads each app's pause (GET), `clear` ends it (DELETE): same endpoints, each answer its own schema.
  const eachApp = (app: string | undefined, method: 'get' | 'delete'): Promise<AppResult[]> =>
    Promise.all(
      targets(app).map((target) =>
        target === 'orders'
          ? call(context.orders(), ORDERS_PATH, (client) =>
              method === 'get'
                ? client.get(ORDERS_PATH, OrdersRateLimitView)
                : client.delete(ORDERS_PATH, OrdersRateLimitClearResult),
            )
          : call(context.emailSender(), EMAIL_SENDER_PATH, (client) =>
              method === 'get'
                ? client.get(EMAIL_SENDER_PATH, EmailSenderRateLimitView)
                : client.delete(EMAIL_SENDER_PATH, EmailSenderRateLimitClearResult),
            ),
      ),
    );

  rateLimit
    .command('show')
    .description('whether sending is paused, until when and why')
    .option('--app <app>', 'only orders or only email-sender (default: both)')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean; app?: string }) => {
      finish(options, await eachApp(options.app, 'get'));
    });

  rateLimit
    .command('clear')
    .description(
      'end the pause now: orders publishes held-back emails again, email-sender releases held ones',
    )
    .option('--app <app>', 'only orders or only email-sender (default: both)')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean; app?: string }) => {
      finish(options, await eachApp(options.app, 'delete'));
    });
}
