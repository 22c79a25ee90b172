import { Inject, Injectable } from '@nestjs/common';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { OutboundHttpClient, OutboundRequestError } from '../clients/outbound-http.client';

/**
 * The send condition could not be evaluated. `isPermanent` when asking again cannot help (the guard refused
 * the URL); otherwise the order is retried within the consumer's attempt budget, then stopped. Deliberately not
 * a DependencyUnavailableError: the endpoint is the tenant's, not our infrastructure, so its failures belong
 * to the message and spend its attempts (an outage of our own dependencies must not).
 */
export class SendConditionUnavailableError extends Error {
  override readonly name = 'SendConditionUnavailableError';

  constructor(
    readonly reason: string,
    readonly isPermanent: boolean,
    options?: ErrorOptions,
  ) {
    super(`send condition endpoint: ${reason}`, options);
  }
}

/**
 * Evaluates an order's `conditionEndpoint` like the reference: `GET` it and read `sendCondition` (any letter
 * case) from the JSON answer. Fetched through the outbound guard (refused addresses, redirects re-checked, a
 * few KiB and a few seconds at most); anything but a clear boolean is a SendConditionUnavailableError.
 */
@Injectable()
export class SendConditionClient {
  constructor(
    private readonly outbound: OutboundHttpClient,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  async isMet(endpoint: string): Promise<boolean> {
    const settings = this.config.outbound;
    let response;
    try {
      response = await this.outbound.request(endpoint, {
        headers: { accept: 'application/json' },
        maxResponseBytes: settings.conditionMaxResponseBytes,
        timeoutMs: settings.conditionTimeoutMs,
        maxRedirects: settings.maxRedirects,
      });
    } catch (error) {
      if (error instanceof OutboundRequestError) {
        throw new SendConditionUnavailableError(error.message, error.isPermanent, { cause: error });
      }
      throw error;
    }
    if (response.status < 200 || response.status > 299) {
      throw new SendConditionUnavailableError(`answered ${response.status}`, false);
    }
    let body: unknown;
    try {
      body = JSON.parse(response.body.toString('utf8'));
    } catch (error) {
      throw new SendConditionUnavailableError('answered invalid JSON', false, { cause: error });
    }
    if (typeof body === 'object' && body !== null) {
      for (const [name, value] of Object.entries(body)) {
        if (name.toLowerCase() === 'sendcondition' && typeof value === 'boolean') return value;
      }
    }
    throw new SendConditionUnavailableError('the answer has no boolean sendCondition', false);
  }
}
