import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { type EmailOrderRequest } from './email-order.request';
import { hashRequest } from './request-hash';

/**
 * The implementation every stored `request_hash` was made with (orders.service.ts until the hash was written
 * through a byte buffer), kept verbatim as the reference: the new walk must give the same digest for any input.
 */
function referenceHash(request: unknown): string {
  const hash = createHash('sha256');
  let slice = '';
  referenceStableJson(request, (text) => {
    slice += text;
    if (slice.length >= 64 * 1024) {
      hash.update(slice);
      slice = '';
    }
  });
  return hash.update(slice).digest('hex');
}

function referenceStableJson(value: unknown, write: (text: string) => void): void {
  if (value instanceof Date) {
    write(JSON.stringify(value.toISOString()));
  } else if (Array.isArray(value)) {
    write('[');
    value.forEach((item: unknown, index) => {
      if (index > 0) write(',');
      referenceStableJson(item, write);
    });
    write(']');
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    write('{');
    keys.forEach((key, index) => {
      write(`${index > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      referenceStableJson(record[key], write);
    });
    write('}');
  } else {
    write(JSON.stringify(value) ?? '');
  }
}

const outcome = (hash: (value: unknown) => string, value: unknown): string => {
  try {
    return hash(value);
  } catch (error) {
    return `threw ${error instanceof Error ? error.name : String(error)}`;
  }
};

const ours = (value: unknown): string => hashRequest(value as EmailOrderRequest);

// Any UTF-16 code unit: lone surrogates, controls, quotes and backslashes included.
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
const anyText = fc.oneof(
  fc.string({ unit: codeUnit }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  // Longer than the 64 KiB buffer holds in the worst case (3 bytes per unit).
  fc.string({ unit: 'grapheme-ascii', minLength: 20_000, maxLength: 30_000 }),
);

describe(hashRequest.name, () => {
  it('gives the digest of the reference implementation for any JSON-like value', () => {
    fc.assert(
      fc.property(
        fc.anything({
          key: anyText,
          values: [anyText, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.date()],
          withDate: true,
          withSparseArray: true,
          withNullPrototype: true,
          withObjectString: true,
          maxDepth: 4,
        }),
        (value) => {
          expect(outcome(ours, value)).toBe(outcome(referenceHash, value));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('gives the digest of the reference implementation for order-shaped requests', () => {
    const recipient = fc.oneof(
      fc.record({ emailAddress: anyText }),
      fc.record({ nationalIdentityNumber: fc.stringMatching(/^\d{11}$/) }),
      fc.record({ organizationNumber: fc.stringMatching(/^\d{9}$/) }),
    );
    const request = fc.record(
      {
        sendersReference: fc.option(anyText, { nil: undefined }),
        requestedSendTime: fc.option(fc.date({ noInvalidDate: true }), { nil: undefined }),
        conditionEndpoint: fc.option(fc.webUrl(), { nil: undefined }),
        ignoreReservation: fc.option(fc.boolean(), { nil: undefined }),
        resourceId: fc.option(anyText, { nil: undefined }),
        subject: anyText,
        body: anyText,
        contentType: fc.constantFrom('Plain', 'Html'),
        recipients: fc.array(recipient, { minLength: 1, maxLength: 300 }),
      },
      { requiredKeys: ['subject', 'body', 'contentType', 'recipients'] },
    );
    fc.assert(
      fc.property(request, (value) => {
        expect(ours(value)).toBe(referenceHash(value));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the digest of the reference implementation for 100 000 recipients', () => {
    const request = {
      subject: 'Skatt – årsoppgjør',
      body: 'Hei $recipientName$ ✓',
      contentType: 'Plain',
      requestedSendTime: new Date('2026-03-16T08:00:00Z'),
      recipients: Array.from({ length: 100_000 }, (_, index) =>
        index % 3 === 0
          ? { emailAddress: `recipient-${index}@example.com` }
          : index % 3 === 1
            ? { nationalIdentityNumber: String(10_000_000_000 + index) }
            : { organizationNumber: String(100_000_000 + index) },
      ),
    };
    expect(ours(request)).toBe(referenceHash(request));
  });
});
