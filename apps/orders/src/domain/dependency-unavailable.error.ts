/**
 * A dependency (contact-point register, database) could not answer. Transient by
 * definition: consumers turn it into a retry with delay.
 */
export class DependencyUnavailableError extends Error {
  override readonly name: string = 'DependencyUnavailableError';

  constructor(
    readonly dependency: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${dependency} unavailable: ${message}`, options);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
