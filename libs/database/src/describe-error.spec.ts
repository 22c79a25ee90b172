import { describeError } from './describe-error';

describe(describeError.name, () => {
  it('describes errors by message, aggregate errors without one by their parts, and anything else as text', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(
      describeError(
        new AggregateError([
          new Error('connect ECONNREFUSED ::1:5432'),
          new Error('connect ECONNREFUSED 127.0.0.1:5432'),
        ]),
      ),
    ).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
    expect(describeError(new AggregateError([new Error('a')], 'all failed'))).toBe('all failed');
    expect(describeError({ message: 'from another realm' })).toBe('from another realm');
    expect(describeError('text')).toBe('text');
    expect(describeError(new TypeError(''))).toBe('TypeError');
  });
});
