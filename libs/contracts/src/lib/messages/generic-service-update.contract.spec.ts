import { violationOf } from '../../../test/violation';
import {
  type GenericServiceUpdate,
  GenericServiceUpdateContract,
  parseResourceLimitExceeded,
  resourceLimitExceeded,
} from './generic-service-update.contract';

const resetTime = new Date('2026-03-16T08:01:00.123Z');

describe(GenericServiceUpdateContract.name, () => {
  it('writes the reference format: indented, data a string holding an indented document', () => {
    expect(GenericServiceUpdateContract.serialize(resourceLimitExceeded(resetTime))).toBe(
      [
        '{',
        '  "source": "platform-notifications-email",',
        '  "schema": "ResourceLimitExceeded",',
        '  "data": "{\\n  \\"resource\\": \\"azure-communication-services-email\\",\\n  \\"resetTime\\": \\"2026-03-16T08:01:00.123Z\\"\\n}"',
        '}',
      ].join('\n'),
    );
  });

  it('reads compact input as well', () => {
    const update = resourceLimitExceeded(resetTime);

    expect(GenericServiceUpdateContract.parse(JSON.stringify(update))).toEqual(update);
  });

  it('reads an absent schema as the reference default Unkown', () => {
    expect(
      GenericServiceUpdateContract.parse('{"source":"platform-notifications-email","data":"{}"}').schema,
    ).toBe('Unkown');
  });

  it('accepts sources of other platform services', () => {
    expect(
      GenericServiceUpdateContract.parse('{"source":"platform-x","schema":"Unkown","data":""}').source,
    ).toBe('platform-x');
  });
});

describe(resourceLimitExceeded.name, () => {
  it('builds the update the email service publishes on 429', () => {
    const update = resourceLimitExceeded(resetTime);

    expect(update).toEqual({
      source: 'platform-notifications-email',
      schema: 'ResourceLimitExceeded',
      data: '{\n  "resource": "azure-communication-services-email",\n  "resetTime": "2026-03-16T08:01:00.123Z"\n}',
    });
  });
});

describe(parseResourceLimitExceeded.name, () => {
  const update = (data: string): GenericServiceUpdate => ({
    source: 'platform-notifications-email',
    schema: 'ResourceLimitExceeded',
    data,
  });

  it('reads what resourceLimitExceeded writes', () => {
    expect(parseResourceLimitExceeded(resourceLimitExceeded(resetTime))).toEqual({
      resource: 'azure-communication-services-email',
      resetTime: '2026-03-16T08:01:00.123Z',
    });
  });

  it('reads the reference data with PascalCase names and 7 fractional digits', () => {
    expect(
      parseResourceLimitExceeded(
        update(
          '{"Resource":"azure-communication-services-email","ResetTime":"2026-03-16T08:01:00.1234567Z"}',
        ),
      ),
    ).toEqual({ resource: 'azure-communication-services-email', resetTime: '2026-03-16T08:01:00.1234567Z' });
  });

  it.each(['not json', '', '[]', '"text"'])('rejects data %j with path data', (data) => {
    const error = violationOf(() => parseResourceLimitExceeded(update(data)));

    expect(error.issues.map((issue) => issue.path)).toEqual(['data']);
    expect(error.contract).toBe('GenericServiceUpdate');
  });

  it('names a bad field inside data', () => {
    const error = violationOf(() =>
      parseResourceLimitExceeded(
        update('{"resource":"azure-communication-services-email","resetTime":"2026-03-16T08:01:00"}'),
      ),
    );

    expect(error.issues.map((issue) => issue.path)).toEqual(['data.resetTime']);
  });

  it('rejects an update of another schema', () => {
    const error = violationOf(() => parseResourceLimitExceeded({ ...update('{}'), schema: 'Unkown' }));

    expect(error.issues).toEqual([
      { path: 'schema', message: 'expected ResourceLimitExceeded, got "Unkown"' },
    ]);
  });
});
