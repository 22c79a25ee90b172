import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HmacAuthenticator } from './hmac-authenticator';

const KEY = Buffer.from('unit-test-key').toString('base64');
const NOW = Date.parse('2026-01-02T10:00:00Z');

function signed(
  body: string,
  { pathAndQuery = '/emails:send?api-version=2025-09-01', date = new Date(NOW), key = KEY } = {},
): { pathAndQuery: string; headers: IncomingHttpHeaders; body: Buffer } {
  const hash = createHash('sha256').update(body).digest('base64');
  const dateText = date.toUTCString();
  const stringToSign = `POST\n${pathAndQuery}\n${dateText};127.0.0.1:5099;${hash}`;
  const signature = createHmac('sha256', Buffer.from(key, 'base64')).update(stringToSign).digest('base64');
  return {
    pathAndQuery,
    body: Buffer.from(body),
    headers: {
      host: '127.0.0.1:5099',
      'x-ms-date': dateText,
      'x-ms-content-sha256': hash,
      authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
    },
  };
}

describe(HmacAuthenticator.name, () => {
  const authenticator = new HmacAuthenticator(KEY, 15 * 60_000, { now: () => NOW });
  const verify = (request: ReturnType<typeof signed>) => authenticator.verify({ method: 'POST', ...request });

  it('accepts a request signed like @azure/communication-common signs it', () => {
    expect(verify(signed('{"a":1}'))).toEqual({
      ok: true,
      contentSha256: createHash('sha256').update('{"a":1}').digest('base64'),
    });
  });

  it('accepts the SDK form of the query when the raw target encodes it differently', () => {
    const request = signed('{}', { pathAndQuery: '/emails:send?api-version=2025-09-01&x=a+b' });
    expect(verify({ ...request, pathAndQuery: '/emails:send?api-version=2025-09-01&x=a%20b' })).toMatchObject(
      {
        ok: true,
      },
    );
  });

  it('accepts the double slash an endpoint ending in "/" produces', () => {
    expect(verify(signed('{}', { pathAndQuery: '//emails:send?api-version=2025-09-01' }))).toMatchObject({
      ok: true,
    });
  });

  it.each([
    ['another key', () => signed('{}', { key: Buffer.from('other').toString('base64') }), /signature/],
    ['a changed body', () => ({ ...signed('{}'), body: Buffer.from('{"x":1}') }), /x-ms-content-sha256/],
    [
      'another path',
      () => ({ ...signed('{}'), pathAndQuery: '/emails:send?api-version=2023-03-31' }),
      /signature/,
    ],
    ['a date 16 minutes late', () => signed('{}', { date: new Date(NOW + 16 * 60_000) }), /off/],
    [
      'no Authorization',
      () => ({ ...signed('{}'), headers: { ...signed('{}').headers, authorization: undefined } }),
      /missing/,
    ],
    [
      'a Bearer token',
      () => ({ ...signed('{}'), headers: { ...signed('{}').headers, authorization: 'Bearer abc' } }),
      /HMAC-SHA256/,
    ],
  ])('refuses %s', (_case, request, reason) => {
    const result = verify(request());
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });
});
