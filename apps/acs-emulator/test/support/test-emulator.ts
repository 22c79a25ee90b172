import { DEFAULT_ACCESS_KEY, loadEmulatorConfig } from '../../src/config/emulator.config';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { signedRequest, type SignedResponse, type SignOptions } from './signed-fetch';

export const API_VERSION = '2025-09-01';

export interface TestEmulator extends RunningEmulator {
  readonly accessKey: string;
  /** A raw signed `POST /emails:send` (no SDK, no retries). */
  send(message: unknown, options?: Partial<SignOptions> & { operationId?: string }): Promise<SignedResponse>;
  /** A raw signed `GET /emails/operations/{id}`. */
  poll(operationId: string, options?: Partial<SignOptions>): Promise<SignedResponse>;
  /** An unauthenticated call of the admin API. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** The emulator in-process on a free port, quiet, with a short operation delay unless `env` says otherwise. */
export async function startTestEmulator(env: Record<string, string> = {}): Promise<TestEmulator> {
  const config = loadEmulatorConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ACS_OPERATION_DELAY_MS: '50ms',
    ...env,
  });
  const emulator = await startEmulator(config, { logger: ['error'] });
  const accessKey = config.acs.accessKey;
  const endpoint = (path: string) => new URL(`${emulator.url}${path}`);
  return {
    ...emulator,
    accessKey,
    send: (message, options = {}) => {
      const { operationId, ...sign } = options;
      return signedRequest('POST', endpoint(`/emails:send?api-version=${API_VERSION}`), message, {
        accessKey,
        ...sign,
        headers: { ...(operationId ? { 'operation-id': operationId } : {}), ...sign.headers },
      });
    },
    poll: (operationId, options = {}) =>
      signedRequest(
        'GET',
        endpoint(`/emails/operations/${operationId}?api-version=${API_VERSION}`),
        undefined,
        {
          accessKey,
          ...options,
        },
      ),
    admin: async <T>(method: string, path: string, body?: unknown) => {
      const response = await fetch(endpoint(path), {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
  };
}

/** A minimal valid `EmailMessage`. */
export function emailTo(address: string | string[], subject = 'Hello'): Record<string, unknown> {
  const to = (Array.isArray(address) ? address : [address]).map((item) => ({ address: item }));
  return {
    senderAddress: 'noreply@example.org',
    content: { subject, plainText: `Body of ${subject}` },
    recipients: { to },
  };
}

export { DEFAULT_ACCESS_KEY };

export interface Stats {
  messages: number;
  operations: number;
  distinctOperationIds: number;
  duplicateSends: number;
  notificationsSentMoreThanOnce: number;
  sameContentMoreThanOnce: number;
  operationsByStatus: Record<string, number>;
  requests: {
    send: Record<string, number>;
    poll: Record<string, number>;
  };
  deliveryReports: Record<string, number | string>;
}
