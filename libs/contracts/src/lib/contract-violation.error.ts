/** One bad field of a message: `path` like `recipients[1].addressInfo[0].emailAddress` ('' for the whole message). */
export interface ContractIssue {
  path: string;
  message: string;
}

// Enough to see what is wrong in a log line; the full list stays on `issues`.
const MAX_ISSUES_IN_MESSAGE = 10;

/**
 * A message does not satisfy its wire contract. It is permanent: the same bytes fail the same way on every
 * attempt, so a consumer dead-letters the message instead of retrying it.
 */
export class ContractViolationError extends Error {
  override readonly name = 'ContractViolationError';
  readonly contract: string;
  readonly issues: readonly ContractIssue[];

  constructor(contract: string, issues: readonly ContractIssue[], options?: ErrorOptions) {
    super(`Invalid ${contract} message: ${describeIssues(issues)}`, options);
    this.contract = contract;
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }

  /**
   * `instanceof` without the pitfall of two loaded copies of this library (e.g. its sources under Jest and its
   * build output in another package).
   */
  static is(error: unknown): error is ContractViolationError {
    return (
      error instanceof ContractViolationError ||
      (error instanceof Error &&
        error.name === 'ContractViolationError' &&
        typeof (error as Partial<ContractViolationError>).contract === 'string' &&
        Array.isArray((error as Partial<ContractViolationError>).issues))
    );
  }
}

function describeIssues(issues: readonly ContractIssue[]): string {
  if (issues.length === 0) return 'no details';
  const shown = issues
    .slice(0, MAX_ISSUES_IN_MESSAGE)
    .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`));
  const hidden = issues.length - shown.length;
  return hidden > 0 ? `${shown.join('; ')}; … and ${hidden} more` : shown.join('; ');
}
