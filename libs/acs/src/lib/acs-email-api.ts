/**
 * The ACS Email REST API version every call of this house uses: the one `@azure/communication-email` 1.1.0 sends
 * (its generated client's default), so that the SDK's sends (email-sender) and the direct status reads
 * (status-poller) talk to the same API. Status-poller may override it (`ACS_API_VERSION`).
 */
export const ACS_EMAIL_API_VERSION = '2025-09-01';

/** `{endpoint}/emails/operations/{operationId}?api-version=…`: where the status of one send is read. */
export function acsEmailOperationUrl(
  endpoint: string | URL,
  operationId: string,
  apiVersion: string = ACS_EMAIL_API_VERSION,
): URL {
  const base =
    typeof endpoint === 'string' ? new URL(endpoint.endsWith('/') ? endpoint : `${endpoint}/`) : endpoint;
  const url = new URL(`emails/operations/${encodeURIComponent(operationId)}`, base);
  url.searchParams.set('api-version', apiVersion);
  return url;
}
