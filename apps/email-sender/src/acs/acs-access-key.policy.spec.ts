import { createCommunicationAccessKeyCredentialPolicy } from '@azure/communication-common';
import {
  createHttpHeaders,
  createPipelineRequest,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
  type SendRequest,
} from '@azure/core-rest-pipeline';
import { acsSigningKey } from '@notifications/acs';
import { accessKeySigningPolicy } from './acs-access-key.policy';

const ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';

/** The request's headers as they go on the wire: names as set, in the order set. */
async function signedHeaders(policy: PipelinePolicy, request: PipelineRequest): Promise<[string, string][]> {
  let seen: [string, string][] | undefined;
  const next: SendRequest = (sent) => {
    seen = Object.entries(sent.headers.toJSON({ preserveCase: true }));
    return Promise.resolve({ request: sent, status: 202, headers: createHttpHeaders() } as PipelineResponse);
  };
  await policy.sendRequest(request, next);
  if (seen === undefined) throw new Error('the policy did not pass the request on');
  return seen;
}

function request(method: 'GET' | 'POST', url: string, body?: string): PipelineRequest {
  return createPipelineRequest({
    method,
    url,
    body,
    headers: createHttpHeaders({ 'Content-Type': 'application/json', 'Operation-Id': 'abc' }),
  });
}

describe(accessKeySigningPolicy.name, () => {
  const requests: [string, () => PipelineRequest][] = [
    [
      'the send POST (JSON body with non-ASCII text)',
      () =>
        request(
          'POST',
          'http://127.0.0.1:5099/emails:send?api-version=2025-09-01',
          JSON.stringify({
            senderAddress: 'noreply@altinn.cloud',
            content: { subject: 'Blåbærsyltetøy 💌' },
          }),
        ),
    ],
    [
      'a status GET (no body)',
      () =>
        request(
          'GET',
          'https://contoso.communication.azure.com/emails/operations/5c9a8f0e-2f4b-4d6a?api-version=2025-09-01',
        ),
    ],
    [
      'a POST with an empty body',
      () => request('POST', 'https://contoso.communication.azure.com/emails:send', ''),
    ],
  ];

  it.each(requests)(
    "sets byte for byte the headers of @azure/communication-common's access-key policy: %s",
    async (_, make) => {
      const sdk = await signedHeaders(
        createCommunicationAccessKeyCredentialPolicy({ key: ACCESS_KEY }),
        make(),
      );
      // The SDK's policy reads the clock itself (seconds resolution): sign at the instant it signed.
      const sdkDate = new Map(sdk).get('x-ms-date');
      expect(sdkDate).toMatch(/ GMT$/);
      const ours = await signedHeaders(
        accessKeySigningPolicy(acsSigningKey(ACCESS_KEY), () => new Date(String(sdkDate))),
        make(),
      );
      expect(ours).toEqual(sdk);
    },
  );

  it('signs each request anew (clock, body) and leaves the other headers as they were', async () => {
    let now = new Date(Date.UTC(2026, 2, 16, 8, 0, 4));
    const policy = accessKeySigningPolicy(acsSigningKey(ACCESS_KEY), () => now);
    const url = 'http://127.0.0.1:5099/emails:send?api-version=2025-09-01';
    const first = new Map(await signedHeaders(policy, request('POST', url, '{"a":1}')));
    now = new Date(Date.UTC(2026, 2, 16, 8, 0, 5));
    const second = new Map(await signedHeaders(policy, request('POST', url, '{"a":2}')));
    expect(first.get('x-ms-date')).toBe('Mon, 16 Mar 2026 08:00:04 GMT');
    expect(second.get('x-ms-date')).toBe('Mon, 16 Mar 2026 08:00:05 GMT');
    expect(second.get('x-ms-content-sha256')).not.toBe(first.get('x-ms-content-sha256'));
    expect(second.get('Authorization')).not.toBe(first.get('Authorization'));
    expect(first.get('Operation-Id')).toBe('abc');
    expect(first.get('Host')).toBe('127.0.0.1:5099');
  });

  it('refuses to sign a body that is not text rather than sign something the server does not hash', async () => {
    const policy = accessKeySigningPolicy(acsSigningKey(ACCESS_KEY));
    const binary = createPipelineRequest({
      method: 'POST',
      url: 'http://127.0.0.1:5099/emails:send',
      body: new Uint8Array([1, 2, 3]),
    });
    await expect(signedHeaders(policy, binary)).rejects.toThrow(/body is not a string/);
  });
});
