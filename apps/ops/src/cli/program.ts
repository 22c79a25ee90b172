import { ConfigError } from '@notifications/config';
import { Command, CommanderError } from 'commander';
import { registerDlqCommands } from '../dlq/dlq.commands';
import { registerLagCommand } from '../lag/lag.commands';
import { registerOrdersCommands } from '../orders/orders.commands';
import { registerOutboxCommands } from '../outbox/outbox.commands';
import { registerRateLimitCommands } from '../rate-limit/rate-limit.commands';
import { registerSubscriptionsCommands } from '../subscriptions/subscriptions.commands';
import { registerTopicsCommands } from '../topics/topics.commands';
import { DeadLetterRequestError } from '@notifications/messaging';
import { CliError } from './cli-error';
import { CommandContext } from './command-context';
import { type CliIo } from './output';

export interface CliEnvironment {
  readonly io: CliIo;
  /** The settings' source (process.env in main.ts; tests pass their own). */
  readonly env: Record<string, string | undefined>;
  /**
   * Calls `listener` on the operator's interrupt (Ctrl-C) until the returned function is called; only a command
   * that follows something (`orders show --watch`) listens, so Ctrl-C still ends every other command at once.
   */
  readonly onInterrupt?: (listener: () => void) => () => void;
}

/**
 * Runs one command line (without `node main.js`) and returns the exit code:
 * 0 done; 1 the operation failed or found problems; 2 bad command line or settings.
 */
export async function runCli(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  const { io } = environment;
  const context = new CommandContext(io, environment.env, environment.onInterrupt);
  const program = new Command('ops')
    .description(
      'Operator tools for the notifications pipeline: dead letters, consumer lag, topics, rate limit, outbox, orders, subscriptions',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true);
  registerDlqCommands(program, context);
  registerLagCommand(program, context);
  registerTopicsCommands(program, context);
  registerRateLimitCommands(program, context);
  registerOutboxCommands(program, context);
  registerOrdersCommands(program, context);
  registerSubscriptionsCommands(program, context);
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    return reportError(error, io);
  } finally {
    await context.close();
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Commander has printed the help or the usage error. `--help` ends with exit code 0; a usage error, or a
    // command group without a subcommand (which shows its help), with 1, reported here as a usage error.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof CliError) {
    io.stderr.write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  // The dead-letter core (libs/messaging) refuses a request it cannot carry out: one line, like a CliError.
  if (error instanceof DeadLetterRequestError) {
    io.stderr.write(`error: ${error.message}\n`);
    return 1;
  }
  if (error instanceof ConfigError) {
    io.stderr.write(`error: ${error.message}\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`error: ${message}\n`);
  return 1;
}
