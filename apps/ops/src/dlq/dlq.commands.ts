import { type Command } from 'commander';
import { CliError } from '../cli/cli-error';
import { collect, nonNegativeInt, positiveInt, type CommandContext } from '../cli/command-context';
import { formatTable } from '../cli/output';
import { DeadLetterService, type MessageFilter } from '@notifications/messaging';

interface JsonOption {
  readonly json?: boolean;
}

function service(context: CommandContext): DeadLetterService {
  return new DeadLetterService(
    context.kafka,
    context.config.kafka.topicSuffix,
    context.config.OPS_KAFKA_READ_TIMEOUT,
  );
}

/** `key=…`, `reason=…`, `origin=…`, `error-class=…` or `header:<name>=…`, all of which must match. */
export function parseFilters(expressions: readonly string[]): MessageFilter {
  const filter: { -readonly [K in keyof MessageFilter]: MessageFilter[K] } = {};
  const headers: Record<string, string> = {};
  for (const expression of expressions) {
    const equals = expression.indexOf('=');
    const name = equals < 0 ? '' : expression.slice(0, equals);
    const value = expression.slice(equals + 1);
    if (name === 'key') filter.key = value;
    else if (name === 'reason') filter.reason = value;
    else if (name === 'origin') filter.origin = value;
    else if (name === 'error-class') filter.errorClass = value;
    else if (name.startsWith('header:') && name.length > 'header:'.length) headers[name.slice(7)] = value;
    else {
      throw new CliError(
        `--filter ${JSON.stringify(expression)}: expected key=…, reason=…, origin=…, error-class=… or header:<name>=…`,
        2,
      );
    }
  }
  return Object.keys(headers).length > 0 ? { ...filter, headers } : filter;
}

export function registerDlqCommands(program: Command, context: CommandContext): void {
  const dlq = program.command('dlq').description('dead-letter topics: list, inspect, replay, purge');

  dlq
    .command('list')
    .description('every dead-letter topic with its message count and oldest/newest record time')
    .option('--json', 'machine-readable output')
    .action(async (options: JsonOption) => {
      const topics = await service(context).list();
      context.output(options).result(topics, () =>
        formatTable(
          [
            { key: 'topic', header: 'TOPIC' },
            { key: 'messages', header: 'MESSAGES', align: 'right' },
            { key: 'partitions', header: 'PARTITIONS', align: 'right' },
            { key: 'oldest', header: 'OLDEST' },
            { key: 'newest', header: 'NEWEST' },
          ],
          topics.map((topic) => ({
            ...topic,
            messages: topic.exists ? topic.messages : 'missing',
            partitions: topic.exists ? topic.partitions : null,
          })),
        ),
      );
    });

  dlq
    .command('show')
    .description('messages of a dead-letter topic with their dead-letter headers and a value preview')
    .argument('<topic>', 'the dead-letter topic')
    .option('--limit <n>', 'at most this many messages', positiveInt, 20)
    .option('--offset <offset>', 'start at this offset (of every selected partition)', nonNegativeInt)
    .option('--partition <n>', 'only this partition', nonNegativeInt)
    .option('--json', 'machine-readable output (full headers)')
    .action(
      async (topic: string, options: JsonOption & { limit: number; offset?: number; partition?: number }) => {
        const messages = await service(context).show(topic, options);
        const output = context.output(options);
        output.result({ topic, messages }, () =>
          messages.length === 0
            ? `No messages on ${topic} in the selected range.`
            : formatTable(
                [
                  { key: 'position', header: 'P/OFFSET' },
                  { key: 'timestamp', header: 'DEAD-LETTERED' },
                  { key: 'key', header: 'KEY' },
                  { key: 'origin', header: 'ORIGIN (TOPIC/P/OFFSET)' },
                  { key: 'reason', header: 'REASON' },
                  { key: 'attempts', header: 'ATTEMPTS', align: 'right' },
                  { key: 'error', header: 'ERROR' },
                  { key: 'valuePreview', header: 'VALUE' },
                ],
                messages.map(({ headers: _headers, ...message }) => ({
                  ...message,
                  position: `${message.partition}/${message.offset}`,
                  timestamp: message.deadLetteredAt ?? message.timestamp,
                  origin:
                    message.originTopic === null
                      ? null
                      : `${message.originTopic}/${message.originPartition ?? '?'}/${message.originOffset ?? '?'}`,
                  error: message.error === null ? null : truncate(message.error, 80),
                  valuePreview: message.valuePreview === null ? null : truncate(message.valuePreview, 60),
                })),
              ),
        );
      },
    );

  dlq
    .command('replay')
    .description(
      're-publish dead-lettered messages to their origin topic (key and own headers kept); recorded, so a second run does not replay them again',
    )
    .argument('<topic>', 'the dead-letter topic')
    .option(
      '--filter <expr>',
      'only messages matching key=…, reason=…, origin=…, error-class=…, header:<name>=… (repeatable)',
      collect,
    )
    .option('--error-contains <text>', 'only messages whose error message contains this text (any case)')
    .option('--partition <n>', 'only this partition', nonNegativeInt)
    .option(
      '--offset <offset>',
      'only the message at this offset (with --partition unless the topic has one)',
      nonNegativeInt,
    )
    .option('--from-beginning', 'also messages replayed before')
    .option('--dry-run', 'show what would be replayed; publish and record nothing')
    .option('--json', 'machine-readable output')
    .action(
      async (
        topic: string,
        options: JsonOption & {
          filter?: string[];
          errorContains?: string;
          partition?: number;
          offset?: number;
          fromBeginning?: boolean;
          dryRun?: boolean;
        },
      ) => {
        const filter: MessageFilter = {
          ...parseFilters(options.filter ?? []),
          ...(options.errorContains === undefined ? {} : { errorContains: options.errorContains }),
          ...(options.partition === undefined ? {} : { partition: options.partition }),
          ...(options.offset === undefined ? {} : { offset: options.offset }),
        };
        const report = await service(context).replay(topic, {
          filter,
          dryRun: options.dryRun === true,
          fromBeginning: options.fromBeginning === true,
        });
        const output = context.output(options);
        for (const warning of report.warnings) output.note(`warning: ${warning}`);
        output.result(report, () => {
          const acted = report.messages.filter(
            (m) => m.outcome !== 'already-replayed' && m.outcome !== 'filtered-out',
          );
          const summary = Object.entries(report.counts)
            .filter(([, count]) => count > 0)
            .map(([outcome, count]) => `${count} ${outcome}`)
            .join(', ');
          const head = `${report.dryRun ? 'Dry run: ' : ''}${topic}: ${summary || 'no messages to replay'}`;
          if (acted.length === 0) return head;
          return `${head}\n\n${formatTable(
            [
              { key: 'position', header: 'P/OFFSET' },
              { key: 'key', header: 'KEY' },
              { key: 'originTopic', header: 'ORIGIN' },
              { key: 'reason', header: 'REASON' },
              { key: 'outcome', header: 'OUTCOME' },
            ],
            acted.map((m) => ({ ...m, position: `${m.partition}/${m.offset}` })),
          )}`;
        });
        const failed = report.counts['no-origin'] + report.counts['origin-missing'];
        if (failed > 0) {
          output.note(
            `${failed} message(s) could not be replayed (no origin header, or the origin topic is missing)`,
          );
          context.exitCode = 1;
        }
      },
    );

  dlq
    .command('purge')
    .description('delete records of a dead-letter topic (all, or those before an offset)')
    .argument('<topic>', 'the dead-letter topic')
    .option(
      '--before <offset>',
      'delete records before this offset (of every selected partition)',
      nonNegativeInt,
    )
    .option('--all', 'delete every record')
    .option('--partition <n>', 'only this partition', nonNegativeInt)
    .option('--yes', 'really delete (without it, only show what would be deleted)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        topic: string,
        options: JsonOption & { before?: number; all?: boolean; partition?: number; yes?: boolean },
      ) => {
        if ((options.before === undefined) === (options.all !== true)) {
          throw new CliError('dlq purge: give exactly one of --before <offset> and --all', 2);
        }
        const dlqService = service(context);
        const plan = await dlqService.purgePlan(topic, {
          ...(options.before === undefined ? {} : { before: options.before }),
          ...(options.partition === undefined ? {} : { partition: options.partition }),
        });
        const output = context.output(options);
        if (options.yes === true) await dlqService.purge(plan);
        output.result({ ...plan, purged: options.yes === true }, () =>
          [
            `${options.yes === true ? 'Deleted' : 'Would delete'} ${plan.records} record(s) of ${topic}`,
            '',
            formatTable(
              [
                { key: 'partition', header: 'PARTITION' },
                { key: 'low', header: 'LOW' },
                { key: 'high', header: 'HIGH' },
                { key: 'deleteBefore', header: 'DELETE BEFORE' },
              ],
              plan.partitions,
            ),
          ].join('\n'),
        );
        if (options.yes !== true) {
          throw new CliError('Nothing deleted: add --yes to delete these records', 1);
        }
      },
    );
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
