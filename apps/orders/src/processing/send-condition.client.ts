import { Injectable } from '@nestjs/common';
import { DependencyUnavailableError, errorMessage } from '../common/dependency-unavailable.error';

const TIMEOUT_MS = 10_000;

/**
 * Evaluates an order's `conditionEndpoint` like the reference: `GET` it and read `sendCondition` (any letter
 * case) from the JSON answer. Anything but a clear boolean is a transient failure (the order is retried).
 */
@Injectable()
export class SendConditionClient {
  async isMet(endpoint: string): Promise<boolean> {
    let response: Response;
    try {
      response = await fetch(endpoint, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new DependencyUnavailableError('send condition endpoint', errorMessage(error), { cause: error });
    }
    if (!response.ok) {
      throw new DependencyUnavailableError('send condition endpoint', `answered ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new DependencyUnavailableError('send condition endpoint', 'answered invalid JSON', {
        cause: error,
      });
    }
    if (typeof body === 'object' && body !== null) {
      for (const [name, value] of Object.entries(body)) {
        if (name.toLowerCase() === 'sendcondition' && typeof value === 'boolean') return value;
      }
    }
    throw new DependencyUnavailableError('send condition endpoint', 'answer has no boolean sendCondition');
  }
}
