import { type Command } from 'commander';
import { type CommandContext } from '../cli/command-context';
import { formatTable } from '../cli/output';
import { type TopicCheck, TopicsService } from './topics.service';

function service(context: CommandContext): TopicsService {
  const { kafka } = context.config;
  return new TopicsService(context.kafka, kafka.topicSuffix, kafka.topics, {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message, fields) => context.io.stderr.write(`${message} ${JSON.stringify(fields ?? {})}\n`),
  });
}

function checkTable(checks: readonly TopicCheck[]): string {
  return formatTable(
    [
      { key: 'topic', header: 'TOPIC' },
      { key: 'status', header: 'STATUS' },
      { key: 'partitions', header: 'PARTITIONS', align: 'right' },
      { key: 'replicationFactor', header: 'REPLICATION', align: 'right' },
      { key: 'retentionMs', header: 'RETENTION.MS', align: 'right' },
      { key: 'problems', header: 'PROBLEMS' },
    ],
    checks.map((check) => ({
      ...check,
      topic: check.kind === 'delay-tier' ? `${check.topic} (delay tier)` : check.topic,
      problems: check.status === 'ok' ? '' : check.problems.join('; '),
    })),
  );
}

export function registerTopicsCommands(program: Command, context: CommandContext): void {
  const topics = program
    .command('topics')
    .description(
      "the project's topics against KAFKA_TOPIC_PARTITIONS, _REPLICATION_FACTOR and _RETENTION_MS",
    );

  topics
    .command('check')
    .description('compare the topics on the broker with the configuration (exit code 1 when any differs)')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const { kafka } = context.config;
      const checks = await service(context).check();
      const problems = checks.filter((check) => check.status !== 'ok').length;
      context
        .output(options)
        .result(
          { configured: kafka.topics, suffix: kafka.topicSuffix ?? null, topics: checks, problems },
          () =>
            `${checkTable(checks)}\n\n${problems === 0 ? 'All topics as configured.' : `${problems} topic(s) missing or not as configured.`}`,
        );
      if (problems > 0) context.exitCode = 1;
    });

  topics
    .command('create')
    .description(
      'create the missing topics with the configured settings (admin credentials); existing ones are left alone',
    )
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const report = await service(context).create();
      context
        .output(options)
        .result(report, () =>
          [
            report.created.length === 0
              ? 'No topic was missing.'
              : `Created ${report.created.length} topic(s).`,
            '',
            checkTable(report.checks),
          ].join('\n'),
        );
    });
}
