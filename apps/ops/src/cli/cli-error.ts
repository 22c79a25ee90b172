/** A failure the CLI reports as one line (no stack trace) with a non-zero exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    /** 1: the operation failed or found problems; 2: the command line was wrong. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}
