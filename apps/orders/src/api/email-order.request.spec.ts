import fc from 'fast-check';
import { AddressPolicy } from '../domain/address-policy';
import { OutboundHttpClient } from '../clients/outbound-http.client';
import {
  emailOrderRequestSchema,
  ORDER_LIMITS,
  pathOfNulCharacter,
  validateBody,
  validateEmailOrderRequest,
} from './email-order.request';
import { hashRequest } from './request-hash';

const now = new Date('2026-03-15T12:00:00Z');
// Production's guard: an empty allow-list.
const outbound = new OutboundHttpClient(new AddressPolicy([]));
const context = { now, sendTimeGraceMs: 5 * 60_000, checkUrl: (url: string) => outbound.checkUrl(url) };
const validate = (body: unknown) => validateEmailOrderRequest(body, context);
const valid = { subject: 'S', body: 'B', recipients: [{ emailAddress: 'a@example.com' }] };

function errorsOf(body: unknown): Record<string, string[]> {
  const result = validate(body);
  if (result.ok) throw new Error('expected validation errors');
  return result.errors;
}

describe(validateEmailOrderRequest.name, () => {
  it('accepts a minimal order and applies the defaults', () => {
    const result = validate(valid);
    expect(result).toEqual({
      ok: true,
      request: {
        subject: 'S',
        body: 'B',
        contentType: 'Plain',
        recipients: [{ emailAddress: 'a@example.com' }],
      },
    });
  });

  it('treats null as absent and tolerates unknown properties', () => {
    const result = validate({ ...valid, sendersReference: null, resourceId: null, extra: 1 });
    expect(result.ok).toBe(true);
  });

  it.each([
    ['2026-03-16T08:00:00Z', '2026-03-16T08:00:00.000Z'],
    ['2026-03-16T08:00Z', '2026-03-16T08:00:00.000Z'],
    ['2026-03-16T09:00:00+01:00', '2026-03-16T08:00:00.000Z'],
    ['2026-03-16T08:00:00.1234567Z', '2026-03-16T08:00:00.123Z'],
    ['2026-03-15T11:56:00Z', '2026-03-15T11:56:00.000Z'],
  ])('accepts the send time %s', (input, instant) => {
    const result = validate({ ...valid, requestedSendTime: input });
    expect(result.ok && result.request.requestedSendTime?.toISOString()).toBe(instant);
  });

  it.each([['2026-03-16T08:00:00'], ['2026-03-16'], ['tomorrow'], ['2026-02-30T08:00:00Z']])(
    'refuses the send time %s (no zone or not a time)',
    (input) => {
      expect(errorsOf({ ...valid, requestedSendTime: input })['requestedSendTime']?.[0]).toMatch(/time zone/);
    },
  );

  it('refuses control characters (CR, LF, tab, C0/C1) in one-line fields, and keeps them in the body', () => {
    for (const bad of [
      'Tax\r\nBcc: x@evil.example',
      'a\tb',
      'nul\u0000',
      'c1\u0085',
      'del\u007f',
      'ls\u2028',
    ]) {
      expect(errorsOf({ ...valid, subject: bad, sendersReference: bad })).toEqual({
        subject: ['must not contain control characters (line breaks, tabs, C0/C1 controls)'],
        sendersReference: ['must not contain control characters (line breaks, tabs, C0/C1 controls)'],
      });
    }
    expect(errorsOf({ ...valid, resourceId: 'urn:altinn:resource:x\n' })).toHaveProperty('resourceId');
    expect(errorsOf({ ...valid, conditionEndpoint: 'https://example.com/\ncondition' })).toHaveProperty(
      'conditionEndpoint',
    );
    expect(
      Object.keys(errorsOf({ ...valid, recipients: [{ emailAddress: 'a\u0000b@example.com' }] })),
    ).toEqual(['recipients[0].emailAddress']);
    expect(validate({ ...valid, subject: 'Skatt – årsoppgjør 2025 ✓', body: 'Line 1\r\n\tLine 2' }).ok).toBe(
      true,
    );
  });

  it('refuses a conditionEndpoint the outbound guard refuses without DNS', () => {
    const refused: Record<string, RegExp> = {
      'ftp://example.com/condition': /must be an http or https URL/,
      'https://user:secret@example.com/condition': /must not contain credentials/,
      'http://127.0.0.1:5099/admin/rules': /loopback address, which is refused/,
      'http://localhost/condition': /loopback address/,
      'http://app.localhost/condition': /loopback address/,
      'http://[::1]/condition': /loopback address/,
      'http://[::ffff:169.254.169.254]/latest/meta-data': /link-local address/,
      'http://169.254.169.254/latest/meta-data': /link-local address/,
      'http://[fd00:ec2::254]/latest/meta-data': /private address/,
      'http://10.0.0.8/condition': /private address/,
      'http://2130706433/condition': /loopback address/,
      'http://0.0.0.0:5090/condition': /unspecified address/,
      'not a url': /must be an absolute http\(s\) URL/,
    };
    for (const [conditionEndpoint, reason] of Object.entries(refused)) {
      const errors = errorsOf({ ...valid, conditionEndpoint });
      expect(errors['conditionEndpoint']?.[0]).toMatch(reason);
    }
    // Names that need DNS are checked when fetched.
    expect(validate({ ...valid, conditionEndpoint: 'https://conditions.example.com/check?id=1' }).ok).toBe(
      true,
    );
    expect(validate({ ...valid, conditionEndpoint: 'http://93.184.215.14/check' }).ok).toBe(true);
  });

  it('refuses a send time beyond the grace period in the past', () => {
    expect(
      errorsOf({ ...valid, requestedSendTime: '2026-03-15T11:54:00Z' })['requestedSendTime']?.[0],
    ).toMatch(/past/);
  });

  it('checks every recipient', () => {
    const errors = errorsOf({
      ...valid,
      recipients: [
        { emailAddress: 'ok@example.com' },
        { emailAddress: 'no-at-sign' },
        { emailAddress: 'two@@example.com' },
        { emailAddress: 'x@nodot' },
        { nationalIdentityNumber: '0101701234' },
        { organizationNumber: '91000000a' },
        { nationalIdentityNumber: '01017012345', organizationNumber: '910000001' },
        { emailAddress: null },
      ],
    });
    expect(Object.keys(errors)).toEqual([
      'recipients[1].emailAddress',
      'recipients[2].emailAddress',
      'recipients[3].emailAddress',
      'recipients[4].nationalIdentityNumber',
      'recipients[5].organizationNumber',
      'recipients[6]',
      'recipients[7]',
    ]);
  });

  it('enforces the size limits', () => {
    const errors = errorsOf({
      subject: 's'.repeat(ORDER_LIMITS.subjectMaxLength + 1),
      body: 'b'.repeat(ORDER_LIMITS.bodyMaxLength + 1),
      sendersReference: 'r'.repeat(ORDER_LIMITS.sendersReferenceMaxLength + 1),
      recipients: Array.from({ length: ORDER_LIMITS.recipientsMax + 1 }, () => ({
        emailAddress: 'a@example.com',
      })),
    });
    expect(errors).toEqual({
      subject: [`must be at most ${ORDER_LIMITS.subjectMaxLength} characters`],
      body: [`must be at most ${ORDER_LIMITS.bodyMaxLength} characters`],
      sendersReference: [`must be at most ${ORDER_LIMITS.sendersReferenceMaxLength} characters`],
      recipients: [`at most ${ORDER_LIMITS.recipientsMax} recipients per order`],
    });
    expect(validate({ ...valid, body: 'b'.repeat(ORDER_LIMITS.bodyMaxLength) }).ok).toBe(true);
  });

  it('lists at most 100 field errors', () => {
    const result = validate({
      ...valid,
      recipients: Array.from({ length: 500 }, () => ({ emailAddress: 'bad' })),
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.total).toBe(500);
      expect(Object.keys(result.errors)).toHaveLength(100);
    }
  });

  it('normalises content types case-insensitively', () => {
    const result = validate({ ...valid, contentType: 'HTML' });
    expect(result.ok && result.request.contentType).toBe('Html');
  });
});

describe('validateEmailOrderRequest without the recipient schema', () => {
  // What the schema alone answers: the fast path must agree with it on every body, valid or not.
  const bySchema = (body: unknown) => validateBody(emailOrderRequestSchema(context), body);

  const text = fc.oneof(
    fc.constantFrom('', ' ', 'x', 'a@example.com', '\u0000', 'line\nbreak', '\u2028'),
    fc.string({ maxLength: 12 }),
  );
  const address = fc.oneof(
    fc.emailAddress(),
    fc.emailAddress().map((email) => ` ${email}\t`),
    fc.emailAddress().map((email) => `${email}\u0000`),
    fc.emailAddress().map((email) => `${email}\u0085`),
    fc.constantFrom('a@b', 'a b@example.com', '@example.com', `${'a'.repeat(250)}@example.com`, ''),
    text,
  );
  const fieldValue = (valid: fc.Arbitrary<string>) =>
    fc.oneof(
      { weight: 8, arbitrary: valid },
      { weight: 1, arbitrary: fc.constantFrom(null, 7, true, [], {}) },
    );
  const recipient = fc.oneof(
    { weight: 6, arbitrary: fc.record({ emailAddress: fieldValue(address) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        nationalIdentityNumber: fieldValue(fc.oneof(fc.stringMatching(/^\d{11}$/), text)),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        organizationNumber: fieldValue(fc.oneof(fc.stringMatching(/^\d{9}$/), text)),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record(
        {
          emailAddress: fc.option(address),
          nationalIdentityNumber: fc.option(fc.stringMatching(/^\d{11}$/)),
          organizationNumber: fc.option(fc.stringMatching(/^\d{9}$/)),
          extra: fc.oneof(text, fc.constant(null)),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(null, 'a@example.com', [], 1) },
  );
  const body = fc.record(
    {
      subject: fieldValue(text),
      body: fieldValue(text),
      contentType: fieldValue(fc.constantFrom('Plain', 'html', 'Markdown')),
      sendersReference: fieldValue(text),
      requestedSendTime: fieldValue(fc.constantFrom('2026-03-16T08:00:00Z', '2020-01-01T00:00Z', 'soon')),
      resourceId: fieldValue(fc.constantFrom('urn:altinn:resource:x', 'x')),
      ignoreReservation: fc.oneof(fc.boolean(), fc.constant('yes')),
      recipients: fc.oneof(
        { weight: 6, arbitrary: fc.array(recipient, { maxLength: 8 }) },
        {
          weight: 3,
          arbitrary: fc.array(
            fc.emailAddress().map((emailAddress) => ({ emailAddress })),
            {
              minLength: 1,
              maxLength: 8,
            },
          ),
        },
        { weight: 1, arbitrary: fc.constantFrom(null, 'a@example.com', {}) },
      ),
      unknown: text,
    },
    { requiredKeys: ['subject', 'body', 'recipients'] },
  );

  it('answers what the schema answers for any body', () => {
    fc.assert(
      fc.property(
        fc.oneof({ weight: 20, arbitrary: body }, { weight: 1, arbitrary: fc.anything() }),
        (value) => {
          expect(validate(value)).toEqual(bySchema(value));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('answers what the schema answers at and beyond the recipient limit', () => {
    const recipients = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ emailAddress: ` r${index}@example.com` }));
    for (const count of [ORDER_LIMITS.recipientsMax, ORDER_LIMITS.recipientsMax + 1]) {
      const value = { ...valid, recipients: recipients(count) };
      expect(validate(value)).toEqual(bySchema(value));
    }
  });

  it('returns valid recipients as they were given when the schema would output the same', () => {
    const recipients = [{ emailAddress: 'a@example.com' }, { nationalIdentityNumber: '01017012345' }];
    const result = validate({ ...valid, recipients });
    expect(result.ok && result.request.recipients).toBe(recipients);
  });
});

describe(hashRequest.name, () => {
  it('is the same for equivalent requests and differs for different ones', () => {
    const a = validate({ ...valid, contentType: 'Plain', requestedSendTime: '2026-03-16T09:00:00+01:00' });
    const b = validate({
      recipients: valid.recipients,
      body: 'B',
      requestedSendTime: '2026-03-16T08:00:00Z',
      subject: 'S',
    });
    const c = validate({ ...valid, subject: 'T' });
    if (!a.ok || !b.ok || !c.ok) throw new Error('expected valid requests');
    expect(hashRequest(a.request)).toBe(hashRequest(b.request));
    expect(hashRequest(a.request)).not.toBe(hashRequest(c.request));
  });

  it('keeps the canonical form that stored request hashes were made with', () => {
    // Orders keep their request_hash: a changed canonical form would turn every retry of an earlier request
    // into an idempotency conflict (422). The digest was computed before the hash was streamed.
    const result = validate({
      subject: 'Skatt – årsoppgjør ✓ "q"',
      body: 'Line 1\r\n\tLine 2 \u2028',
      sendersReference: 'ref',
      requestedSendTime: '2026-03-16T09:00:00+01:00',
      contentType: 'html',
      ignoreReservation: true,
      resourceId: 'urn:altinn:resource:x',
      recipients: [
        { nationalIdentityNumber: '01017012345' },
        { organizationNumber: '123456789' },
        { emailAddress: ' b@example.com ' },
      ],
    });
    if (!result.ok) throw new Error('expected a valid request');
    expect(hashRequest(result.request)).toBe(
      'b02990fe229dac5cfd037ffd8f7f83b8a98e8a8a7d4b021e73cf02118100a1e4',
    );
  });
});

describe(pathOfNulCharacter.name, () => {
  it('names the first string holding U+0000 in document order, at any depth', () => {
    expect(pathOfNulCharacter({ a: [1, { b: 'x' }, { c: ['ok', 'n\u0000'] }], d: 'n\u0000' })).toEqual([
      'a',
      2,
      'c',
      1,
    ]);
    expect(pathOfNulCharacter('x\u0000')).toEqual([]);
    expect(pathOfNulCharacter({ a: [[], {}, null, 1, 'x'] })).toBeUndefined();
  });

  it('walks a deeply nested body without recursion', () => {
    let body: unknown = 'deep\u0000';
    for (let depth = 0; depth < 100_000; depth += 1) body = [body];
    expect(pathOfNulCharacter(body)).toHaveLength(100_000);
  });
});
