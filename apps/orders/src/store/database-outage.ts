import { isDatabaseUnavailable } from '@notifications/database';
import { InfrastructureUnavailableError } from '@notifications/messaging';
import { DependencyUnavailableError, errorMessage } from '../domain/dependency-unavailable.error';

/**
 * Runs a consumer's work so that a database outage pauses the partition instead of failing the message. Every
 * orders handler needs PostgreSQL: a connection-level database failure is an outage, not the message's fault, so
 * the consumer pauses and reads the message again instead of spending one of its attempts (and dead-lettering
 * status updates during an outage longer than the retry budget). A failing tenant endpoint
 * (DependencyUnavailableError, e.g. a refused send-condition URL) stays the message's failure: one tenant's
 * endpoint must not pause everybody's messages.
 */
export async function pauseOnDatabaseOutage<R>(work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (error) {
    if (!causedByTenantDependency(error) && isDatabaseUnavailable(error))
      throw new InfrastructureUnavailableError('postgresql', errorMessage(error), { cause: error });
    throw error;
  }
}

function causedByTenantDependency(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (current instanceof DependencyUnavailableError) return true;
  }
  return false;
}
