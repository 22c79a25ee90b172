import { z } from 'zod';
import {
  CreatedSubscriptionResponse,
  EmailNotificationSummaryResponse,
  OrderIdResponse,
  OrderProgressResponse,
  readServerSentEvents,
} from '@notifications/contracts';
import { type DemoApp } from './demo.config';

const API_PREFIX = '/notifications/api/v1';
const REQUEST_TIMEOUT_MS = 5_000;

const EmulatorRules = z.object({ rules: z.array(z.object({ id: z.string(), hits: z.number() })) });

/** The server answered, with an error status (as opposed to a broken connection). */
export class HttpAnswerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One event of an order's progress stream. */
export interface ProgressStreamEvent {
  readonly id: string | undefined;
  readonly snapshot: z.infer<typeof OrderProgressResponse>;
}

export type Readiness =
  | { readonly ready: true }
  /** `answers`: false when nothing listens (the app is not started), true when it answers but is not ready. */
  | { readonly ready: false; readonly answers: boolean; readonly reason: string };

/** An emulator scripting rule (apps/acs-emulator/README.md, "Scripting"). */
export interface EmulatorRule {
  readonly id: string;
  readonly match: string;
  readonly times?: number;
  readonly behaviour: { readonly type: string; readonly retryAfterSeconds?: number } | string;
}

/** The demo's HTTP calls: the orders API (as a service owner would), readiness probes and the emulator's admin API. */
export class DemoClient {
  constructor(
    private readonly ordersUrl: string,
    private readonly emulatorUrl: string,
  ) {}

  async readiness(app: DemoApp): Promise<Readiness> {
    let response: Response;
    try {
      response = await fetch(`${app.url}/health/ready`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      return {
        ready: false,
        answers: false,
        reason: `nothing answers at ${app.url} (${networkErrorText(error)})`,
      };
    }
    if (response.ok) return { ready: true };
    const body = await response.text();
    return {
      ready: false,
      answers: true,
      reason: `${app.url}/health/ready answers ${response.status}: ${readinessText(body)}`,
    };
  }

  async createEmailOrder(token: string, order: unknown): Promise<z.infer<typeof OrderIdResponse>> {
    return this.ordersApi('POST', '/orders/email', token, OrderIdResponse, order);
  }

  async emailNotifications(
    token: string,
    orderId: string,
  ): Promise<z.infer<typeof EmailNotificationSummaryResponse>> {
    return this.ordersApi(
      'GET',
      `/orders/${orderId}/notifications/email`,
      token,
      EmailNotificationSummaryResponse,
    );
  }

  /**
   * The order's progress stream (`GET /orders/{id}/progress`, `Accept: text/event-stream`): its snapshots until
   * the server ends it (after the final one) or `signal` aborts it. `lastEventId` resumes after an event already
   * seen.
   */
  async *progress(
    token: string,
    orderId: string,
    lastEventId: string | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<ProgressStreamEvent> {
    const url = `${this.ordersUrl}${API_PREFIX}/orders/${orderId}/progress`;
    const response = await fetch(url, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'text/event-stream',
        ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
      },
      signal,
    });
    if (!response.ok || response.body === null) {
      throw new HttpAnswerError(
        response.status,
        `GET ${url} answered ${response.status}: ${await response.text()}`,
      );
    }
    for await (const item of readServerSentEvents(response.body)) {
      if (item.kind !== 'event') continue;
      const parsed = OrderProgressResponse.safeParse(JSON.parse(item.data));
      if (!parsed.success) throw new Error(`GET ${url}: unexpected event ${item.data}`);
      yield { id: item.id, snapshot: parsed.data };
    }
  }

  /** `POST /subscriptions`: the answer carries the signing secret, shown this once. */
  async createSubscription(
    token: string,
    subscription: unknown,
  ): Promise<z.infer<typeof CreatedSubscriptionResponse>> {
    return this.ordersApi('POST', '/subscriptions', token, CreatedSubscriptionResponse, subscription);
  }

  /** Best effort, like the emulator rules: a subscription left behind filters on the demo's own reference. */
  async deleteSubscription(token: string, id: string): Promise<void> {
    try {
      await fetch(`${this.ordersUrl}${API_PREFIX}/subscriptions/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch {
      // orders may be gone already (npm start stopped).
    }
  }

  async installEmulatorRules(rules: readonly EmulatorRule[]): Promise<void> {
    const response = await fetch(`${this.emulatorUrl}/admin/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rules),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.status !== 201) {
      throw new Error(`The emulator refused the demo's rules: ${response.status} ${await response.text()}`);
    }
  }

  /** How many sends an installed emulator rule has matched (`undefined` when the emulator does not say). */
  async emulatorRuleHits(id: string): Promise<number | undefined> {
    try {
      const response = await fetch(`${this.emulatorUrl}/admin/rules`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const parsed = EmulatorRules.safeParse(await response.json());
      return parsed.success ? parsed.data.rules.find((rule) => rule.id === id)?.hits : undefined;
    } catch {
      return undefined;
    }
  }

  /** Best effort: a rule left behind only matches the demo's own unique address. */
  async deleteEmulatorRule(id: string): Promise<void> {
    try {
      await fetch(`${this.emulatorUrl}/admin/rules/${encodeURIComponent(id)}`, {
        method: 'DELETE',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch {
      // The emulator may be gone already (npm start stopped); its rules are in memory only.
    }
  }

  private async ordersApi<T>(
    method: 'GET' | 'POST',
    path: string,
    token: string,
    schema: z.ZodType<T>,
    body?: unknown,
  ): Promise<T> {
    const url = `${this.ordersUrl}${API_PREFIX}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`${method} ${url} failed: ${networkErrorText(error)} (is npm start still running?)`, {
        cause: error,
      });
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
    const parsed = schema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${method} ${url}: unexpected response ${text}`);
    return parsed.data;
  }
}

/** fetch reports every network failure as `TypeError: fetch failed`; the reason is in `cause`. */
function networkErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause: unknown = error.cause;
  if (cause instanceof Error) return 'code' in cause ? String(cause.code) : cause.message;
  return error.message;
}

/** The failing checks of a terminus readiness body (`{"error": {"kafka": {"message": …}}}`), else the body. */
function readinessText(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const failing = parsed.error;
      if (typeof failing === 'object' && failing !== null && Object.keys(failing).length > 0) {
        return Object.entries(failing)
          .map(([name, detail]: [string, unknown]) => {
            const message =
              typeof detail === 'object' && detail !== null && 'message' in detail
                ? String(detail.message)
                : 'down';
            return `${name}: ${message}`;
          })
          .join('; ');
      }
    }
  } catch {
    // Not JSON: show it as it is.
  }
  return body.slice(0, 300);
}
