import { type KeyObject } from 'node:crypto';
import { type PipelinePolicy, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { signAcsRequest } from '@notifications/acs';

/**
 * The name `@azure/communication-common` gives its access-key signing policy (`createCommunicationAuthPolicy` for a
 * connection string or KeyCredential), which `EmailClient` adds to its pipeline. Wire-level fact of the SDK: the
 * name is how that policy is found and replaced (`removePolicy({ name })`), so it must not be "fixed".
 */
export const SDK_ACCESS_KEY_POLICY_NAME = 'CommunicationAccessKeyCredentialPolicy';

/**
 * The ACS access-key (HMAC-SHA256) request signature, header for header as the SDK's own
 * `communicationAccessKeyCredentialPolicy` (@azure/communication-common 2.x) sets it: `Host`, `x-ms-date`,
 * `x-ms-content-sha256` and `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…`
 * over `VERB\npath?query\ndate;host;base64(sha256(body))` (the scheme: "Sign an HTTP request with HMAC",
 * https://learn.microsoft.com/azure/communication-services/tutorials/hmac-header-tutorial, and
 * https://learn.microsoft.com/rest/api/communication/authentication).
 *
 * Why not the SDK's: it decodes the base64 key into a Buffer on every request and hands that to `createHmac`,
 * whose Buffer-key path on node 24 probes the key as a KeyObject and a CryptoKey first (`getKeyObjectSlots`,
 * `getSlots`): 18 µs per signature against 2.7 µs with a KeyObject (micro-benchmark on the project machine), and
 * `createHmac` was 7.4 % of email-sender's CPU profile in the 100 000-recipient benchmark (issue 12). Here the key
 * is a KeyObject made once (`acsSigningKey`), as status-poller and the emulator already use it.
 *
 * Same place in the pipeline as the SDK's (no phase, before the retry policy), so like the SDK's it signs once per
 * call and every retry of the call carries the same signature and `x-ms-date`.
 */
export function accessKeySigningPolicy(key: KeyObject, now: () => Date = () => new Date()): PipelinePolicy {
  return {
    name: 'emailSenderAccessKeySigningPolicy',
    sendRequest(request, next): Promise<PipelineResponse> {
      const signed = signAcsRequest(key, request.method, new URL(request.url), bodyText(request), now());
      // The SDK's header names and order, so that the request on the wire is the one the SDK would send.
      request.headers.set('Host', signed.host);
      request.headers.set('x-ms-date', signed['x-ms-date']);
      request.headers.set('x-ms-content-sha256', signed['x-ms-content-sha256']);
      request.headers.set('Authorization', signed.authorization);
      return next(request);
    },
  };
}

/**
 * The body as the signature covers it. The generated client serialises every body to a JSON string before this
 * policy (the Serialize phase runs first), and a GET has none; anything else is not a request this app makes, and
 * signing `String(body)` the way the SDK would (`[object ArrayBuffer]`) is never what the server hashes.
 */
function bodyText(request: PipelineRequest): string {
  const { body } = request;
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  throw new TypeError(`Cannot sign a ${request.method} request whose body is not a string`);
}
