import { Inject, Injectable } from '@nestjs/common';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { type Release, WeightedSemaphore } from '../domain/weighted-semaphore';
import { problem, ProblemException } from './problem-details';

// Bodies up to this size pass without waiting: thousands of small orders cost less than one large one.
export const LARGE_BODY_BYTES = 64 * 1024;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The bytes a request body will take while it is read, validated and stored: its Content-Length when that is
 * large, the body limit when its size is unknown before reading (chunked, or compressed: it may inflate to the
 * limit), 0 when it is small, absent, or over the limit (then 413 before a byte is read).
 */
export function bodyWeight(headers: Headers, bodyLimitBytes: number): number {
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const encoding = (header('content-encoding') ?? 'identity').trim().toLowerCase();
  const lengthHeader = header('content-length')?.trim();
  const length = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  if (length === undefined && header('transfer-encoding') === undefined) return 0;
  if (encoding !== 'identity' || length === undefined) return bodyLimitBytes;
  if (length > bodyLimitBytes) return 0;
  return length > LARGE_BODY_BYTES ? length : 0;
}

/**
 * Admission of large order bodies (README "Memory"): at most ORDERS_INTAKE_BYTES_IN_FLIGHT of them are read,
 * validated and stored at once; the others wait up to ORDERS_INTAKE_MAX_WAIT in arrival order, then get 503 with
 * Retry-After. Only callers whose token was verified get here (the route's guard runs first, and the body is not
 * read before it), so a stranger's bodies never take room from a tenant's campaign.
 */
@Injectable()
export class IntakeGate {
  private readonly bytes: WeightedSemaphore;
  private readonly bodyLimitBytes: number;
  private readonly maxWaitMs: number;

  constructor(@Inject(ORDERS_CONFIG) config: OrdersConfig) {
    this.bytes = new WeightedSemaphore(config.api.intakeBytesInFlight);
    this.bodyLimitBytes = config.api.bodyLimitBytes;
    this.maxWaitMs = config.api.intakeMaxWaitMs;
  }

  /** Bytes of admitted bodies now, and requests waiting (for /metrics and tests). */
  get state(): { readonly bytesInFlight: number; readonly waiting: number } {
    return { bytesInFlight: this.bytes.inUse, waiting: this.bytes.queued };
  }

  /**
   * Waits until the body fits; the release must be called once the request is handled. Throws a 503 problem when
   * the wait exceeds ORDERS_INTAKE_MAX_WAIT; `signal` ends the wait when the client goes away.
   */
  async admit(headers: Headers, signal: AbortSignal): Promise<Release> {
    const weight = bodyWeight(headers, this.bodyLimitBytes);
    if (weight === 0) return () => undefined;
    const release = await this.bytes.acquire(weight, { timeoutMs: this.maxWaitMs, signal });
    if (release !== undefined) return release;
    throw new ProblemException(
      problem(503, 'Too many large orders are being received at once; retry later.'),
      // As long as this request waited: by then the orders ahead of it have moved on.
      { 'Retry-After': String(Math.max(1, Math.ceil(this.maxWaitMs / 1000))) },
    );
  }
}
