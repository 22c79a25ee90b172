import { EmailClient, type EmailMessage, type EmailSendOptionalParams } from '@azure/communication-email';
import { Logger } from '@nestjs/common';
import { type Email } from '@notifications/contracts';
import { classifySendError, type SendFailure } from './acs-send-error';
import {
  StatusCheckSkipped,
  sendOnlyPolicy,
  throttlingPolicy,
  timeoutAsRetryablePolicy,
} from './acs-pipeline.policies';
import { type AcsConnection } from './acs-connection-string';

export interface AcsClientSettings {
  readonly connection: AcsConnection;
  readonly requestTimeoutMs: number;
  /** Retries inside the SDK (5xx, 408, dropped connections, timeouts), each with the same Operation-Id. */
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
}

export type AcsSendResult = { readonly kind: 'accepted'; readonly operationId: string } | SendFailure;

type OnResponse = NonNullable<EmailSendOptionalParams['onResponse']>;

/** The email as ACS takes it: one recipient, plain text or HTML body. */
export function toEmailMessage(email: Email): EmailMessage {
  return {
    senderAddress: email.fromAddress,
    content:
      email.contentType === 'Html'
        ? { subject: email.subject, html: email.body }
        : { subject: email.subject, plainText: email.body },
    recipients: { to: [{ address: email.toAddress }] },
  };
}

/**
 * Sends emails through the official SDK and reports what happened as data, never as an exception.
 *
 * - The notification id is the ACS `Operation-Id`: a redelivered message, or an SDK retry of a request whose
 *   answer was lost, reaches ACS as the same operation, so one notification is one email.
 * - Returns as soon as ACS accepted the send (`WaitUntil.Started`); status-poller checks the operation later.
 * - 429 is not retried inside the SDK (see `throttlingPolicy`); 5xx, timeouts and dropped connections are, a
 *   bounded number of times, before the result says `unavailable`.
 */
export class AcsEmailClient {
  private readonly logger = new Logger(AcsEmailClient.name);
  private readonly client: EmailClient;

  constructor(private readonly settings: AcsClientSettings) {
    this.client = new EmailClient(settings.connection.connectionString, {
      // The SDK refuses plain HTTP unless told; only a local emulator is ever reached that way.
      allowInsecureConnection: settings.connection.insecure,
      retryOptions: {
        maxRetries: settings.maxRetries,
        retryDelayInMs: settings.retryDelayMs,
        maxRetryDelayInMs: settings.maxRetryDelayMs,
      },
      additionalPolicies: [
        { policy: sendOnlyPolicy(), position: 'perCall' },
        { policy: throttlingPolicy({ maxRetryDelayMs: settings.maxRetryDelayMs }), position: 'perRetry' },
        { policy: timeoutAsRetryablePolicy(settings.requestTimeoutMs), position: 'perRetry' },
      ],
    });
  }

  get endpoint(): string {
    return this.settings.connection.endpoint;
  }

  async send(email: Email): Promise<AcsSendResult> {
    // The POST's own answer: a 2xx here means ACS has the operation, whatever happens after it in the SDK.
    let accepted: { operationId: string | undefined } | undefined;
    const onResponse: OnResponse = (response) => {
      if (response.request.method !== 'POST' || response.status < 200 || response.status >= 300) return;
      const body = response.parsedBody as { id?: unknown } | undefined;
      accepted = { operationId: typeof body?.id === 'string' && body.id !== '' ? body.id : undefined };
    };
    try {
      await this.client.beginSend(toEmailMessage(email), {
        operationId: email.notificationId,
        onResponse,
        requestOptions: { timeout: this.settings.requestTimeoutMs },
      });
    } catch (error) {
      if (accepted === undefined) return classifySendError(error);
      if (!(error instanceof StatusCheckSkipped)) {
        this.logger.debug(
          `Send of ${email.notificationId} accepted; ignoring a later SDK error: ${String(error)}`,
        );
      }
    }
    const operationId = accepted?.operationId ?? email.notificationId;
    if (operationId !== email.notificationId) {
      this.logger.warn(
        `ACS answered operation id ${operationId} for notification ${email.notificationId} (sent as Operation-Id)`,
      );
    }
    return { kind: 'accepted', operationId };
  }
}
