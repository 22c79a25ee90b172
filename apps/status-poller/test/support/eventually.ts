/**
 * Asserts that something stays true for a while (e.g. "no further check after the final result"), polling it
 * like `expectEventually` does; fails at the first moment it is false.
 */
export async function expectToStay(
  assertion: () => void | Promise<void>,
  forMs: number,
  intervalMs = 100,
): Promise<void> {
  const until = Date.now() + forMs;
  for (;;) {
    await assertion();
    if (Date.now() >= until) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** p-th percentile (0–100) of numbers, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
