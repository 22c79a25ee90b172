import { type HealthIndicatorResult, type HealthIndicatorService } from '@nestjs/terminus';
import { type ReadinessCheck } from './readiness-check';

/** Runs one check, bounded by `timeoutMs`, as a terminus indicator result (never rejects). */
export async function runReadinessCheck(
  indicators: HealthIndicatorService,
  check: ReadinessCheck,
  timeoutMs: number,
): Promise<HealthIndicatorResult> {
  const session = indicators.check(check.name);
  const started = performance.now();
  try {
    await withTimeout(
      // Also turns a check that throws synchronously into a rejection.
      Promise.resolve().then(() => check.check()),
      timeoutMs,
      `${check.name} check did not finish within ${timeoutMs} ms`,
    );
    return session.up({ durationMs: Math.round(performance.now() - started) });
  } catch (error) {
    return session.down({
      message: describeError(error),
      durationMs: Math.round(performance.now() - started),
    });
  }
}

function withTimeout(work: Promise<void>, timeoutMs: number, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  // A hanging check keeps running in the background; the probe answers anyway.
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

// Duck-typed rather than `instanceof Error`, which fails for errors from another realm. An AggregateError without
// a message (node's refused connection to a host with several addresses) is described by its parts.
function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { errors, message, name } = error as { errors?: unknown; message?: unknown; name?: unknown };
  if (Array.isArray(errors) && errors.length > 0 && !message) return errors.map(describeError).join('; ');
  if (typeof message === 'string' && message !== '') return message;
  return typeof name === 'string' ? name : String(error);
}
