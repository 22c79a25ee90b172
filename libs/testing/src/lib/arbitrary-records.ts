import fc from 'fast-check';

/**
 * What any producer may write as a record value: arbitrary bytes, arbitrary text (lone surrogates included),
 * arbitrary JSON, and near misses (objects with the payloads' property names and arbitrary values).
 */
export const arbitraryRecordValue: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary' }),
  fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
  fc
    .dictionary(
      fc.constantFrom(
        'id',
        'notificationId',
        'operationId',
        'sendResult',
        'lastStatusCheck',
        'toAddress',
        'subject',
        'body',
        'source',
        'schema',
        'data',
        'creator',
      ),
      fc.jsonValue({ maxDepth: 2 }),
    )
    .map((value) => JSON.stringify(value)),
);

/** The seed of a fuzzing run: FUZZ_SEED to repeat one, else a new one (name it in the test so a failure shows it). */
export function fuzzSeed(): number {
  const fixed = process.env['FUZZ_SEED'];
  return fixed === undefined ? Math.floor(Math.random() * 2_147_483_647) : Number(fixed);
}

/** `count` arbitrary records, half of them keyed, drawn reproducibly from `seed`. */
export function arbitraryRecords(count: number, seed: number): { key?: string; value: string | Buffer }[] {
  const keys = fc.sample(fc.option(fc.string({ minLength: 1, maxLength: 40 }), { freq: 2 }), {
    numRuns: count,
    seed,
  });
  return fc
    .sample(arbitraryRecordValue, { numRuns: count, seed })
    .map((value, index) =>
      keys[index] === null || keys[index] === undefined ? { value } : { key: keys[index], value },
    );
}
