import { type KeyObject } from 'node:crypto';
import {
  EmailClient,
  type EmailClientOptions,
  type EmailMessage,
  type EmailSendOptionalParams,
} from '@azure/communication-email';
import { createClientPipeline, type ServiceClientOptions } from '@azure/core-client';
import { isRestError } from '@azure/core-rest-pipeline';
import { Logger } from '@nestjs/common';
import { acsEmailOperationUrl, acsSigningKey, type AcsConnection } from '@notifications/acs';
import { type Email } from '@notifications/contracts';
import { accessKeySigningPolicy, SDK_ACCESS_KEY_POLICY_NAME } from './acs-access-key.policy';
import { classifySendError, type SendFailure } from './acs-send-error';
import {
  StatusCheckSkipped,
  repeatabilityPolicy,
  sendOnlyPolicy,
  throttlingPolicy,
  timeoutAsRetryablePolicy,
} from './acs-pipeline.policies';

export interface AcsClientSettings {
  readonly connection: AcsConnection;
  readonly requestTimeoutMs: number;
  /** Retries inside the SDK (5xx, 408, dropped connections, timeouts), each with the same Operation-Id. */
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
}

export type AcsSendResult = { readonly kind: 'accepted'; readonly operationId: string } | SendFailure;

/** What ACS knows of an operation id (`GET /emails/operations/{id}`). */
export type OperationLookup =
  | { readonly kind: 'exists'; readonly status: string }
  | { readonly kind: 'absent' }
  /**
   * No clear answer (5xx, 429, 401, no response): whether it exists is unknown. `outage` as in SendFailure: true
   * for 5xx, 408 and no response (ACS unavailable), false for an answer that refused us (401/403, 429).
   */
  | { readonly kind: 'unknown'; readonly reason: string; readonly outage?: boolean };

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
 * - The notification id is the ACS `Operation-Id`, so the operation can be looked up by it (`findOperation`).
 *   Whether ACS treats a second POST with the same `Operation-Id` as the same send is not documented, so nothing
 *   here relies on it.
 * - Every POST carries ACS Repeatable Requests headers, the same on each of the SDK's own retries
 *   (`repeatabilityPolicy`): a retry of a POST whose answer was lost gets the original answer, not a second email.
 * - Returns as soon as ACS accepted the send (`WaitUntil.Started`); status-poller checks the operation later.
 * - 429 is not retried inside the SDK (see `throttlingPolicy`); 5xx, timeouts and dropped connections are, a
 *   bounded number of times, before the result says `unavailable`.
 * - 409 (the original request is still in progress) is read as accepted and left to polling; 412 (the request
 *   outlived the 5-minute repeatability window) asks ACS for the operation and sends anew only if it is absent.
 *   Neither ever becomes a final `Failed`.
 */
export class AcsEmailClient {
  private readonly logger = new Logger(AcsEmailClient.name);
  private readonly client: EmailClient;
  /** For operation lookups: the same pipeline without `sendOnlyPolicy`, which stops every GET. */
  private readonly reader: EmailClient;

  constructor(private readonly settings: AcsClientSettings) {
    const retryOptions = {
      maxRetries: settings.maxRetries,
      retryDelayInMs: settings.retryDelayMs,
      maxRetryDelayInMs: settings.maxRetryDelayMs,
    };
    const perRetry = [
      {
        policy: throttlingPolicy({ maxRetryDelayMs: settings.maxRetryDelayMs }),
        position: 'perRetry' as const,
      },
      { policy: timeoutAsRetryablePolicy(settings.requestTimeoutMs), position: 'perRetry' as const },
    ];
    // The SDK refuses plain HTTP unless told; only a local emulator is ever reached that way.
    const allowInsecureConnection = settings.connection.insecure;
    const key = acsSigningKey(settings.connection.accessKey);
    this.client = emailClientSigningWith(key, settings.connection.connectionString, {
      allowInsecureConnection,
      retryOptions,
      additionalPolicies: [
        { policy: sendOnlyPolicy(), position: 'perCall' },
        { policy: repeatabilityPolicy(), position: 'perCall' },
        ...perRetry,
      ],
    });
    this.reader = emailClientSigningWith(key, settings.connection.connectionString, {
      allowInsecureConnection,
      retryOptions,
      additionalPolicies: perRetry,
    });
  }

  get endpoint(): string {
    return this.settings.connection.endpoint;
  }

  async send(email: Email): Promise<AcsSendResult> {
    const first = await this.post(email);
    if (first.kind !== 'outsideRepeatabilityWindow') return first;
    // 412: this call outlived the 5-minute window (long SDK retries, or a skewed clock). ACS did not execute the
    // repeat, but an earlier attempt of the call may have been accepted: ask before sending anew.
    const lookup = await this.findOperation(email.notificationId);
    switch (lookup.kind) {
      case 'exists':
        return { kind: 'accepted', operationId: email.notificationId };
      case 'unknown':
        return {
          kind: 'unavailable',
          retryAfterMs: undefined,
          reason: `ACS answered 412; ${lookup.reason}`,
          outage: true,
        };
      case 'absent': {
        // A new call of beginSend: new repeatability headers, first-sent now.
        const second = await this.post(email);
        return second.kind === 'outsideRepeatabilityWindow'
          ? {
              kind: 'unavailable',
              retryAfterMs: undefined,
              reason: 'ACS answered 412 to a fresh request (is the clock of this host off?)',
            }
          : second;
      }
    }
  }

  /**
   * `GET /emails/operations/{operationId}` through the SDK: a poller resumed (`resumeFrom`) at the operation's
   * location, as `poller.toString()` serialises it, polled once. 200 → exists (whatever its status), 404 →
   * absent (the REST API's documented answers), anything else → unknown.
   */
  async findOperation(operationId: string): Promise<OperationLookup> {
    const location = acsEmailOperationUrl(this.endpoint, operationId);
    const resumeFrom = JSON.stringify({
      state: {
        status: 'running',
        config: { operationLocation: location.toString(), metadata: { mode: 'OperationLocation' } },
      },
    });
    let answer: { status: number; operationStatus: string } | undefined;
    const onResponse: OnResponse = (response) => {
      if (response.request.method !== 'GET') return;
      const body = response.parsedBody as { status?: unknown } | undefined;
      answer = { status: response.status, operationStatus: String(body?.status ?? 'unknown') };
    };
    let failure: unknown;
    try {
      // The message is not sent: a resumed poller only polls.
      await this.reader.beginSend(NO_MESSAGE, {
        resumeFrom,
        onResponse,
        requestOptions: { timeout: this.settings.requestTimeoutMs },
      });
    } catch (error) {
      // A poller whose operation is Failed throws too; the answer above is what counts.
      failure = error;
    }
    if (answer?.status === 200) return { kind: 'exists', status: answer.operationStatus };
    if (answer?.status === 404 || (isRestError(failure) && failure.statusCode === 404))
      return { kind: 'absent' };
    const detail =
      answer === undefined
        ? failure instanceof Error
          ? failure.message
          : String(failure)
        : `HTTP ${answer.status}`;
    const status = answer?.status ?? (isRestError(failure) ? failure.statusCode : undefined);
    const outage = status === undefined || status === 0 || status >= 500 || status === 408;
    return { kind: 'unknown', reason: `operation lookup failed: ${detail}`, outage };
  }

  private async post(email: Email): Promise<AcsSendResult | { readonly kind: 'outsideRepeatabilityWindow' }> {
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
      if (accepted === undefined) {
        // Repeatable Requests: 409 = the original request of this call is still in progress at ACS, so the
        // operation is being created; polling decides how it ends (never a final Failed from here).
        if (isRestError(error) && error.statusCode === 409)
          return { kind: 'accepted', operationId: email.notificationId };
        if (isRestError(error) && error.statusCode === 412) return { kind: 'outsideRepeatabilityWindow' };
        return classifySendError(error);
      }
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

/**
 * The SDK's `User-Agent` prefix (`emailRestApiClient.js` of @azure/communication-email 1.1.0). A pipeline handed to
 * the SDK is used as it is, so the prefix the SDK would have configured is configured here; the spec compares the
 * header with the SDK's own.
 */
const SDK_USER_AGENT_PREFIX = 'azsdk-js-communication-email/1.1.0';

/**
 * An `EmailClient` whose requests are signed by `accessKeySigningPolicy` (a KeyObject) instead of the SDK's
 * access-key policy (a Buffer decoded per request, the costlier part of each send). Everything else is the SDK's:
 * the client is built from the connection string as usual, on the pipeline the SDK would build for these options
 * (`createClientPipeline`, what @azure/core-client's ServiceClient does when not given one; its `pipeline` option,
 * which EmailClient passes through, is how we keep a handle on it). The SDK then adds its signing policy to that
 * pipeline, and it is swapped for ours in the same place. When a future SDK stops using the pipeline it is given,
 * there is nothing to swap and start-up fails here instead of sending unsigned or doubly signed requests.
 * Left out: the tracing policy, which does nothing here (below), and the SDK's `loggingOptions.logger`, which only
 * names the logger of AZURE_LOG_LEVEL output.
 */
export function emailClientSigningWith(
  key: KeyObject,
  connectionString: string,
  options: EmailClientOptions,
): EmailClient {
  const pipeline = createClientPipeline({
    ...options,
    userAgentOptions: { userAgentPrefix: SDK_USER_AGENT_PREFIX },
  });
  const withPipeline: EmailClientOptions & Pick<ServiceClientOptions, 'pipeline'> = { ...options, pipeline };
  const client = new EmailClient(connectionString, withPipeline);
  const sdkSigners = pipeline.removePolicy({ name: SDK_ACCESS_KEY_POLICY_NAME });
  if (sdkSigners.length !== 1) {
    throw new Error(
      `@azure/communication-email did not add its access-key policy to the pipeline it was given (found ${sdkSigners.length}); cannot install the KeyObject signer`,
    );
  }
  pipeline.addPolicy(accessKeySigningPolicy(key));
  // The SDK's tracing policy builds span attributes for every request (a sanitised copy of the URL, the user
  // agent) and then gets a span that does not record: Azure SDK spans reach OpenTelemetry only through
  // @azure/opentelemetry-instrumentation-azure-sdk, which this app does not register (1.2 % of its CPU profile
  // for nothing, issue 12). Register that instrumentation and this line has to go.
  pipeline.removePolicy({ name: SDK_TRACING_POLICY_NAME });
  return client;
}

// @azure/core-rest-pipeline's name for its tracing policy (`tracingPolicyName`); how it is found and removed.
const SDK_TRACING_POLICY_NAME = 'tracingPolicy';

/** `beginSend` needs a message even when it only resumes polling; this one is never sent. */
const NO_MESSAGE: EmailMessage = {
  senderAddress: 'unused@invalid',
  content: { subject: 'unused', plainText: '' },
  recipients: { to: [{ address: 'unused@invalid' }] },
};
