import { InternalApiPaths, OutboxRedriveResult, OutboxView } from '@notifications/contracts';
import { type Command } from 'commander';
import { duration, type CommandContext } from '../cli/command-context';
import { formatTable } from '../cli/output';

function age(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function registerOutboxCommands(program: Command, context: CommandContext): void {
  const outbox = program
    .command('outbox')
    .description('the orders outbox: backlog and re-driving stuck rows');

  outbox
    .command('show')
    .description('unpublished rows per topic and the age of the oldest')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const view = await context.orders().get(InternalApiPaths.ordersOutbox, OutboxView);
      context.output(options).result(view, () =>
        [
          `Unpublished: ${view.unpublished}; oldest ${age(view.oldestAgeMs)} old${view.oldestUnpublishedAt ? ` (${view.oldestUnpublishedAt})` : ''}`,
          ...(view.topics.length === 0
            ? []
            : [
                '',
                formatTable(
                  [
                    { key: 'topic', header: 'TOPIC' },
                    { key: 'unpublished', header: 'UNPUBLISHED' },
                    { key: 'available', header: 'CLAIMABLE' },
                    { key: 'waiting', header: 'BACK-OFF/PARKED' },
                    { key: 'failing', header: 'FAILED PUBLISH' },
                    { key: 'oldestUnpublishedAt', header: 'OLDEST' },
                  ],
                  view.topics,
                ),
              ]),
        ].join('\n'),
      );
    });

  outbox
    .command('redrive')
    .description('make unpublished rows whose back-off is not over, or that were parked, claimable now')
    .option('--older-than <duration>', 'only rows created longer ago than this', duration, 5 * 60_000)
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean; olderThan: number }) => {
      const result = await context
        .orders()
        .post(InternalApiPaths.ordersOutboxRedrive, OutboxRedriveResult, { olderThan: options.olderThan });
      context
        .output(options)
        .result(
          result,
          () => `Re-drove ${result.redriven} row(s) created more than ${age(result.olderThanMs)} ago.`,
        );
    });
}
