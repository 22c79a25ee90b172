import { randomUUID } from 'node:crypto';
import { signAcsRequest } from '@notifications/acs';
import { type AcsEmulatorClient, AcsEmulatorProcess, EMULATOR_ACCESS_KEY } from '@notifications/testing';

// The ACS emulator of libs/testing, plus the data plane these tests need: signed sends with a chosen
// Operation-Id (what email-sender does in production), so that the poller finds operations to poll.

// For the benchmark, which may not import libs/testing itself (it is not a test file).
export { type AcsEmulatorProcess, EMULATOR_ACCESS_KEY };

/** The emulator (built by Nx before these tests) on a free port, answering polls with `retry-after: 1`. */
export function startEmulator(env: Record<string, string> = {}): Promise<AcsEmulatorProcess> {
  return AcsEmulatorProcess.start({ ACS_POLL_RETRY_AFTER_SECONDS: '1', ...env });
}

/** `POST /emails:send` signed like the SDK, with `Operation-Id` = the given id (the sender's notification id). */
export async function sendEmail(emulator: AcsEmulatorClient, operationId: string, to: string): Promise<void> {
  const url = new URL('/emails:send?api-version=2025-09-01', emulator.url);
  const body = JSON.stringify({
    senderAddress: 'noreply@notifications.test',
    content: { subject: 'Status poller test', plainText: 'Hello' },
    recipients: { to: [{ address: to }] },
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...signAcsRequest(EMULATOR_ACCESS_KEY, 'POST', url, body),
      'content-type': 'application/json',
      'operation-id': operationId,
      'x-ms-client-request-id': randomUUID(),
    },
    body,
  });
  if (response.status !== 202) {
    throw new Error(
      `emulator refused the send of ${operationId}: ${response.status} ${await response.text()}`,
    );
  }
  await response.arrayBuffer();
}

/** Sends many, a bounded number at a time. */
export async function sendEmails(
  emulator: AcsEmulatorClient,
  operations: readonly { id: string; to: string }[],
  concurrency = 32,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < operations.length) {
      const operation = operations[next++]!;
      await sendEmail(emulator, operation.id, operation.to);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, operations.length) }, worker));
}
