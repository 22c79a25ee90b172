import { envAcsConnectionString, parseAcsConnectionString } from './acs-connection-string';

const KEY = Buffer.from('secret key').toString('base64');

describe(parseAcsConnectionString.name, () => {
  it('reads an https endpoint as secure', () => {
    const result = parseAcsConnectionString(
      `endpoint=https://contoso.communication.azure.com/;accesskey=${KEY}`,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        connectionString: `endpoint=https://contoso.communication.azure.com/;accesskey=${KEY}`,
        endpoint: 'https://contoso.communication.azure.com/',
        accessKey: KEY,
        insecure: false,
      },
    });
  });

  it('adds the trailing slash the request paths need', () => {
    const result = parseAcsConnectionString(
      `endpoint=https://contoso.communication.azure.com;accesskey=${KEY}`,
    );
    expect(result).toMatchObject({
      ok: true,
      value: { endpoint: 'https://contoso.communication.azure.com/' },
    });
  });

  it('marks a plain-http endpoint (the local emulator) as insecure, and matches names case-insensitively', () => {
    const result = parseAcsConnectionString(`Endpoint=http://127.0.0.1:5099/;AccessKey=${KEY}`);
    expect(result).toMatchObject({ ok: true, value: { endpoint: 'http://127.0.0.1:5099/', insecure: true } });
  });

  it.each([
    ['no access key', 'endpoint=https://contoso.communication.azure.com/'],
    ['not a URL', `endpoint=contoso;accesskey=${KEY}`],
    ['another scheme', `endpoint=ftp://contoso/;accesskey=${KEY}`],
    ['a key that is not base64', 'endpoint=https://contoso/;accesskey=not base64!'],
    ['an empty key', 'endpoint=https://contoso/;accesskey='],
  ])('refuses %s without echoing the key', (_label, value) => {
    const result = parseAcsConnectionString(value);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(KEY);
  });
});

describe(envAcsConnectionString.name, () => {
  it('refuses a bad built-in default when the settings are declared', () => {
    expect(() => envAcsConnectionString('endpoint=nope')).toThrow(TypeError);
  });
});
