import { parseAcsConnectionString } from './acs-connection-string';

describe(parseAcsConnectionString.name, () => {
  it('reads endpoint and key, adding the trailing slash the request paths need', () => {
    expect(
      parseAcsConnectionString('endpoint=https://contoso.communication.azure.com;accesskey=YWJj'),
    ).toEqual({
      endpoint: 'https://contoso.communication.azure.com/',
      accessKey: 'YWJj',
    });
    expect(parseAcsConnectionString('Endpoint=http://127.0.0.1:5099/;AccessKey=YWJj=')?.endpoint).toBe(
      'http://127.0.0.1:5099/',
    );
  });

  it.each([
    'accesskey=YWJj',
    'endpoint=not a url;accesskey=YWJj',
    'endpoint=ftp://host/;accesskey=YWJj',
    'endpoint=https://host/;accesskey=not base64!',
  ])('rejects %s', (text) => {
    expect(parseAcsConnectionString(text)).toBeUndefined();
  });
});
