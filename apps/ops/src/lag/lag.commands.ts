import { type Command } from 'commander';
import { collect, type CommandContext } from '../cli/command-context';
import { formatTable } from '../cli/output';
import { ConsumerLagService } from '@notifications/messaging';

export function registerLagCommand(program: Command, context: CommandContext): void {
  program
    .command('lag')
    .description("consumer lag per group, topic and partition (default: the apps' consumer groups)")
    .option('--group <id>', 'this consumer group instead (repeatable)', collect)
    .option('--json', 'machine-readable output')
    .action(async (options: { group?: string[]; json?: boolean }) => {
      const service = new ConsumerLagService(context.kafka, context.config.kafka.topicSuffix);
      const groups = await service.lag(options.group ?? service.defaultGroups());
      const totalLag = groups.reduce((sum, group) => sum + group.totalLag, 0);
      context.output(options).result({ groups, totalLag }, () => {
        const rows = groups.flatMap((group) => [
          ...group.partitions.map((p) => ({ ...p, committed: p.committed ?? 'none', state: '' })),
          {
            group: group.group,
            topic: group.partitions.length === 0 ? '(no committed offsets)' : 'total',
            partition: null,
            committed: null,
            high: null,
            lag: group.totalLag,
            state: `${group.state}, ${group.members} member(s)`,
          },
        ]);
        return `${formatTable(
          [
            { key: 'group', header: 'GROUP' },
            { key: 'topic', header: 'TOPIC' },
            { key: 'partition', header: 'PARTITION', align: 'right' },
            { key: 'committed', header: 'COMMITTED', align: 'right' },
            { key: 'high', header: 'END', align: 'right' },
            { key: 'lag', header: 'LAG', align: 'right' },
            { key: 'state', header: 'STATE' },
          ],
          rows,
        )}\n\nTotal lag: ${totalLag}`;
      });
    });
}
