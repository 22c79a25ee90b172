#!/usr/bin/env node
import { runCli } from './cli/program';

// kafkajs 2.2.4 arms a timer with a negative delay on Node ≥ 23, which prints a TimeoutNegativeWarning on every
// run (harmless: Node uses 1 ms). Keep the operator's terminal for what matters; other warnings still print.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning')
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

// The only place that reads the process environment: the settings are parsed once from it (libs/config).
runCli(process.argv.slice(2), {
  io: { stdout: process.stdout, stderr: process.stderr },
  env: process.env,
  onInterrupt: (listener) => {
    process.once('SIGINT', listener);
    return () => process.off('SIGINT', listener);
  },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
