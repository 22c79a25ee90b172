export interface EventuallyOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Polls an assertion until it passes or the time is up, then fails with the assertion's last error.
 * Integration tests wait for outcomes this way instead of sleeping for a fixed time.
 */
export async function expectEventually<T>(
  assertion: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 100 }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  if (lastError instanceof Error) {
    lastError.message = `Not true within ${timeoutMs} ms: ${lastError.message}`;
    throw lastError;
  }
  throw new Error(`Not true within ${timeoutMs} ms: ${String(lastError)}`);
}
