import { violatedPaths, violationOf } from '../../../test/violation';
import { type Email, EmailContract } from './email.contract';

const email: Email = {
  notificationId: '5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11',
  subject: 'Subject',
  body: 'Body',
  fromAddress: 'noreply@altinn.cloud',
  toAddress: 'ola.nordmann@example.com',
  contentType: 'Plain',
};
const wire =
  '{"notificationId":"5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11","subject":"Subject","body":"Body",' +
  '"fromAddress":"noreply@altinn.cloud","toAddress":"ola.nordmann@example.com","contentType":"Plain"}';

describe(EmailContract.name, () => {
  it('writes the reference wire format', () => {
    expect(EmailContract.serialize(email)).toBe(wire);
  });

  it('reads PascalCase property names (as .NET may write them) and writes camelCase', () => {
    const pascal = JSON.stringify({
      NotificationId: email.notificationId,
      Subject: email.subject,
      Body: email.body,
      FromAddress: email.fromAddress,
      ToAddress: email.toAddress,
      ContentType: email.contentType,
    });

    expect(EmailContract.parse(pascal)).toEqual(email);
    expect(EmailContract.serialize(EmailContract.parse(pascal))).toBe(wire);
  });

  it('reads property names in any letter case', () => {
    const shouting = JSON.stringify({
      ...email,
      notificationId: undefined,
      NOTIFICATIONID: email.notificationId,
    });

    expect(EmailContract.parse(shouting).notificationId).toBe(email.notificationId);
  });

  it('prefers the exact property name over a case-insensitive match', () => {
    const both = JSON.stringify({ Subject: 'wrong', ...email, SUBJECT: 'wrong too' });

    expect(EmailContract.parse(both).subject).toBe('Subject');
  });

  it('ignores unknown properties and does not write them', () => {
    const parsed = EmailContract.parse(JSON.stringify({ ...email, priority: 'high', attachments: [1, 2] }));

    expect(parsed).toEqual(email);
    expect(EmailContract.serialize({ ...email, extra: true } as Email)).toBe(wire);
  });

  it('normalises enum values in another letter case to the reference spelling', () => {
    expect(EmailContract.parse(JSON.stringify({ ...email, contentType: 'html' })).contentType).toBe('Html');
    expect(EmailContract.parse(JSON.stringify({ ...email, contentType: 'PLAIN' })).contentType).toBe('Plain');
  });

  it('normalises UUIDs to lowercase', () => {
    const upper = JSON.stringify({ ...email, notificationId: email.notificationId.toUpperCase() });

    expect(EmailContract.parse(upper).notificationId).toBe(email.notificationId);
    expect(EmailContract.serialize({ ...email, notificationId: email.notificationId.toUpperCase() })).toBe(
      wire,
    );
  });

  it('treats a null property as absent', () => {
    expect(
      violatedPaths(() => EmailContract.parse(JSON.stringify({ ...email, notificationId: null }))),
    ).toEqual(['notificationId']);
  });

  it('names every bad field', () => {
    const error = violationOf(() =>
      EmailContract.validate({
        ...email,
        notificationId: 'not-a-uuid',
        subject: 42,
        contentType: 'Markdown',
      }),
    );

    expect(error.issues).toEqual([
      { path: 'notificationId', message: 'expected a UUID, got "not-a-uuid"' },
      { path: 'subject', message: 'expected string, got number' },
      { path: 'contentType', message: 'expected one of Plain | Html, got "Markdown"' },
    ]);
    expect(error.message).toBe(
      'Invalid Email message: notificationId: expected a UUID, got "not-a-uuid"; subject: expected string, got number; ' +
        'contentType: expected one of Plain | Html, got "Markdown"',
    );
  });

  it('reads a Buffer, with or without a byte order mark', () => {
    expect(EmailContract.parse(Buffer.from(wire, 'utf8'))).toEqual(email);
    expect(EmailContract.parse(Buffer.from(`\uFEFF${wire}`, 'utf8'))).toEqual(email);
  });

  it.each([
    ['null', null, 'no message value (null)'],
    ['undefined', undefined, 'no message value (null)'],
    ['an empty value', '', 'not valid JSON: Unexpected end of JSON input'],
  ])('rejects %s as a whole', (_, raw, message) => {
    expect(violationOf(() => EmailContract.parse(raw)).issues).toEqual([{ path: '', message }]);
  });

  it.each([
    ['an array', '[]', 'expected object, got array'],
    ['a string', '"test"', 'expected object, got string'],
    ['null', 'null', 'expected object, got null'],
  ])('rejects JSON that is %s', (_, raw, message) => {
    expect(violationOf(() => EmailContract.parse(raw)).issues).toEqual([{ path: '', message }]);
  });

  it('refuses to write an invalid message', () => {
    expect(
      violatedPaths(() => EmailContract.serialize({ ...email, contentType: 'Markdown' as 'Html' })),
    ).toEqual(['contentType']);
  });

  it('keeps free text as it is, including an address the sender will reject', () => {
    const odd = { ...email, subject: '', body: 'æøå 😀 "quoted"\n', toAddress: 'not an address' };

    expect(EmailContract.parse(EmailContract.serialize(odd))).toEqual(odd);
  });
});
