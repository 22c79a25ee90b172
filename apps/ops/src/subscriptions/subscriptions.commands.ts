import {
  InternalApiPaths,
  OperatorSubscriptionList,
  type OperatorSubscriptionView,
  operatorSubscriptionReplayPath,
  SubscriptionReplayResult,
} from '@notifications/contracts';
import { type Command } from 'commander';
import { subscriptionIdArgument, type CommandContext } from '../cli/command-context';
import { formatTable } from '../cli/output';

function age(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function table(subscriptions: readonly OperatorSubscriptionView[]): string {
  return formatTable(
    [
      { key: 'id', header: 'ID' },
      { key: 'creator', header: 'CREATOR' },
      { key: 'status', header: 'STATUS' },
      { key: 'destination', header: 'DESTINATION' },
      { key: 'pending', header: 'PENDING', align: 'right' },
      { key: 'oldest', header: 'OLDEST', align: 'right' },
      { key: 'timesSent', header: 'SENT', align: 'right' },
      { key: 'failsCounter', header: 'FAILS', align: 'right' },
      { key: 'lastFailureReason', header: 'LAST FAILURE' },
    ],
    subscriptions.map((subscription) => ({
      ...subscription,
      oldest: age(subscription.oldestPendingAgeMs),
      lastFailureReason: subscription.lastFailureReason ?? '-',
    })),
  );
}

export function registerSubscriptionsCommands(program: Command, context: CommandContext): void {
  const subscriptions = program
    .command('subscriptions')
    .description(
      "status subscriptions: their delivery state and backlog, and replaying a failed one's events",
    );

  subscriptions
    .command('list')
    .description(
      'every subscription: status (active, failed, expired), destination, pending events and the oldest one’s age, sent, consecutive failures, last failure',
    )
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const list = await context.orders().get(InternalApiPaths.ordersSubscriptions, OperatorSubscriptionList);
      context
        .output(options)
        .result(list, () =>
          list.subscriptions.length === 0 ? 'No subscriptions.' : table(list.subscriptions),
        );
    });

  subscriptions
    .command('replay')
    .description(
      'resume a subscription (active again, failure streak forgotten) and deliver its pending events now, oldest first',
    )
    .argument('<id>', 'the subscription id', subscriptionIdArgument)
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { json?: boolean }) => {
      const { subscription } = await context
        .orders()
        .post(operatorSubscriptionReplayPath(id), SubscriptionReplayResult);
      context
        .output(options)
        .result(
          { subscription },
          () =>
            `Subscription ${subscription.id} (${subscription.destination}): ${subscription.status}; ${subscription.pending} pending event(s) due now.`,
        );
    });
}
