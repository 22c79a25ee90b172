import { acsSigningKey, signAcsRequest } from './acs-request-signer';

describe(signAcsRequest.name, () => {
  it("signs a request exactly like @azure/communication-common's access-key policy", () => {
    // Expected headers recorded from communicationAccessKeyCredentialPolicy (communication-common 2.x) for the
    // same request, key and clock.
    const url = new URL(
      'http://127.0.0.1:5099/emails/operations/5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11?api-version=2025-09-01',
    );
    const headers = signAcsRequest(
      'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0',
      'get',
      url,
      '',
      new Date(Date.UTC(2026, 2, 16, 8, 0, 4)),
    );
    expect(headers).toEqual({
      host: '127.0.0.1:5099',
      'x-ms-date': 'Mon, 16 Mar 2026 08:00:04 GMT',
      'x-ms-content-sha256': '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      authorization:
        'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=GaiOD72YadwjxQFGpUADiwltyxn2hdMtO0dCFXFco2U=',
    });
  });

  it('signs the same with the key object and with a body', () => {
    const url = new URL('http://127.0.0.1:5099/emails:send?api-version=2025-09-01');
    const key = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';
    const at = new Date(Date.UTC(2026, 2, 16, 8, 0, 4));
    for (const body of ['', '{"a":1}']) {
      expect(signAcsRequest(acsSigningKey(key), 'POST', url, body, at)).toEqual(
        signAcsRequest(key, 'POST', url, body, at),
      );
    }
    expect(signAcsRequest(key, 'POST', url, '{"a":1}', at)['x-ms-content-sha256']).not.toBe(
      signAcsRequest(key, 'POST', url, '', at)['x-ms-content-sha256'],
    );
  });
});
