import { ACS_EMAIL_API_VERSION, acsEmailOperationUrl } from './acs-email-api';

describe(acsEmailOperationUrl.name, () => {
  it('builds the operation status URL with the API version, with or without the trailing slash', () => {
    for (const endpoint of [
      'https://contoso.communication.azure.com',
      'https://contoso.communication.azure.com/',
    ]) {
      expect(acsEmailOperationUrl(endpoint, 'a b').toString()).toBe(
        `https://contoso.communication.azure.com/emails/operations/a%20b?api-version=${ACS_EMAIL_API_VERSION}`,
      );
    }
    expect(acsEmailOperationUrl(new URL('http://127.0.0.1:5099/'), 'x', '2023-03-31').search).toBe(
      '?api-version=2023-03-31',
    );
  });
});
