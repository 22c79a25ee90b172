import { RuleBook, DuplicateRuleIdError } from './rule-book';
import { compileMatch, ruleSchema, rulesSchema } from './rule.schema';

describe(RuleBook.name, () => {
  let now = 0;
  const clock = { now: () => now };
  beforeEach(() => (now = 1_000));

  it('picks the first active rule matching any recipient, installed rules before built-ins', () => {
    const book = new RuleBook(clock, [
      { id: 'a', match: '*@fail.test', behaviour: { type: 'succeed' } },
      { id: 'b', match: 'x@*', behaviour: { type: 'throttle' } },
    ]);

    expect(book.select(['y@example.org', 'x@example.org'])?.id).toBe('b');
    expect(book.select(['q@fail.test'])?.id).toBe('a');
    expect(book.select(['q@suppressed.test'])?.id).toBe('builtin:suppressed');
    expect(book.select(['q@example.org'])).toBeUndefined();
  });

  it('stops applying a rule after `times` hits and after `forMs` from its first hit', () => {
    const book = new RuleBook(clock, [
      { id: 'twice', match: 'a@*', times: 2, behaviour: { type: 'throttle' } },
      { id: 'window', match: 'b@*', forMs: 500, behaviour: { type: 'throttle' } },
    ]);

    expect([1, 2, 3].map(() => book.select(['a@x.org'])?.id)).toEqual(['twice', 'twice', undefined]);
    expect(book.select(['b@x.org'])?.id).toBe('window');
    now += 499;
    expect(book.select(['b@x.org'])?.id).toBe('window');
    now += 1;
    expect(book.select(['b@x.org'])).toBeUndefined();

    book.resetCounters();
    expect(book.select(['a@x.org'])?.id).toBe('twice');
  });

  it('can switch built-ins off, remove and replace rules, and refuses duplicate ids', () => {
    const book = new RuleBook(clock, [], false);
    expect(book.select(['q@fail.test'])).toBeUndefined();

    book.add([{ id: 'r', match: '*', behaviour: { type: 'fail' } }]);
    expect(() => book.add([{ id: 'r', match: '*', behaviour: { type: 'fail' } }])).toThrow(
      DuplicateRuleIdError,
    );
    expect(() =>
      book.replace([
        { id: 'z', match: '*', behaviour: { type: 'fail' } },
        { id: 'z', match: '*', behaviour: { type: 'fail' } },
      ]),
    ).toThrow(DuplicateRuleIdError);
    expect(book.list().rules.map((rule) => rule.id)).toEqual(['r']);
    expect(book.remove('r')).toBe(true);
    expect(book.remove('r')).toBe(false);
  });
});

describe('rule language', () => {
  it.each([
    ['*@bounce.test', 'Someone@Bounce.TEST', true],
    ['*@bounce.test', 'someone@bounce.test.evil.org', false],
    ['user?@example.org', 'user1@example.org', true],
    ['a+b@example.org', 'a+b@example.org', true],
    ['/^ops-\\d+@/', 'ops-12@example.org', true],
    ['/^OPS@/', 'ops@example.org', false],
    ['/^OPS@/i', 'ops@example.org', true],
  ])('%s matches %s: %s', (match, address, expected) => {
    expect(compileMatch(match)?.test(address)).toBe(expected);
  });

  it('accepts a string behaviour as shorthand and a single rule where an array is expected', () => {
    expect(rulesSchema.parse({ match: '*', behaviour: 'drop' })).toEqual([
      { match: '*', behaviour: { type: 'drop' } },
    ]);
  });

  it.each([
    [{ match: '*', behaviour: { type: 'fail', colour: 'red' } }],
    [{ match: '*', behaviour: { type: 'serverError', status: 404 } }],
    [{ match: '*', behaviour: { type: 'succeed', deliveryReport: { Delivered: 0 } } }],
    [{ match: '/[/', behaviour: 'fail' }],
    [{ match: '*', times: 0, behaviour: 'fail' }],
  ])('refuses %j', (rule) => {
    expect(ruleSchema.safeParse(rule).success).toBe(false);
  });
});
