import { type ContractIssue, ContractViolationError } from '../src/lib/contract-violation.error';

/** The ContractViolationError `action` throws; fails the test if it throws nothing or something else. */
export function violationOf(action: () => unknown): ContractViolationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ContractViolationError) return error;
    throw error;
  }
  throw new Error('expected a ContractViolationError, but nothing was thrown');
}

/** The paths of the issues `action` is rejected for. */
export function violatedPaths(action: () => unknown): string[] {
  return violationOf(action).issues.map((issue: ContractIssue) => issue.path);
}
