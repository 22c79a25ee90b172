import { maskPersonalData } from './personal-data';

describe(maskPersonalData.name, () => {
  it.each([
    ['Invalid format for email address a@b.no', 'Invalid format for email address <email>'],
    ['to=<ola.nordmann+x@example.com>, cc: "k@x.org"', 'to=<<email>>, cc: "<email>"'],
    ['nationalIdentityNumber 01017012345 not found', 'nationalIdentityNumber <identity-number> not found'],
    ['{"ssn":"01017012345"}', '{"ssn":"<identity-number>"}'],
  ])('masks %j', (text, masked) => {
    expect(maskPersonalData(text)).toBe(masked);
  });

  it.each([
    'postgres://postgres@127.0.0.1:5432/notifications',
    'postgres://orders:***@db.internal:5432/x',
    'offset 1234567890 and timestamp 1765000000000',
    'expected one of Plain | Html, got "Markdown"',
  ])('leaves %j alone', (text) => {
    expect(maskPersonalData(text)).toBe(text);
  });
});
