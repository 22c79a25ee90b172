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
    // Hex ids with 11 digits in a row inside them (a trace id once lost its middle to the mask).
    'trace_id c396db52d91918786146eef7f4e82499',
    'operation 8540c0de-0000-4000-8000-a12345678901',
  ])('leaves %j alone', (text) => {
    expect(maskPersonalData(text)).toBe(text);
  });
});
