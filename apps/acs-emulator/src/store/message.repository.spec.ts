import type { EmailMessage } from '../acs/email-message.schema';
import { MessageRepository } from './message.repository';

const message = (to: string, plainText = 'body'): EmailMessage => ({
  senderAddress: 'noreply@example.org',
  content: { subject: `to ${to}`, plainText },
  recipients: { to: [{ address: to }] },
});

describe(MessageRepository.name, () => {
  it('pages by seq and keeps only the newest `capacity` messages', () => {
    const repository = new MessageRepository(3, 100);
    for (let i = 0; i < 5; i += 1)
      repository.append(message(`r${i}@x.org`), { operationId: `op${i}`, receivedAt: i });

    const page = repository.query({ limit: 2 });
    expect(page.messages.map((m) => m.seq)).toEqual([3, 4]);
    expect(page.nextAfter).toBe(4);
    expect(repository.query({ after: 4, limit: 10 }).messages.map((m) => m.seq)).toEqual([5]);
    expect(repository.bySeq(2)).toBeUndefined();
    expect(repository.bySeq(4)?.operationId).toBe('op3');
    expect(repository.counts()).toMatchObject({ messages: 5, evicted: 2 });
    expect(repository.size).toBe(3);
  });

  it('finds the start of `since` by binary search', () => {
    const repository = new MessageRepository(100, 100);
    for (let i = 0; i < 10; i += 1)
      repository.append(message('a@x.org'), { operationId: `op${i}`, receivedAt: i * 1000 });

    const page = repository.query({ since: new Date(4500).toISOString(), limit: 100 });
    expect(page.messages.map((m) => m.operationId)).toEqual(['op5', 'op6', 'op7', 'op8', 'op9']);
  });

  it('truncates long bodies and counts identical content sent twice', () => {
    const repository = new MessageRepository(100, 4);
    const seq = repository.append(message('a@x.org', 'long body'), { operationId: 'op1', receivedAt: 0 });
    repository.append(message('a@x.org', 'long body'), { operationId: 'op2', receivedAt: 1 });

    expect(repository.bySeq(seq)).toMatchObject({ plainText: 'long', bodyTruncated: true });
    expect(repository.counts().sameContentMoreThanOnce).toBe(1);
  });

  it('counts content sent again within the last `capacity` messages, and forgets it after twice as many', () => {
    const repository = new MessageRepository(3, 100);
    const send = (body: string): void => {
      repository.append(message('a@x.org', body), { operationId: body, receivedAt: 0 });
    };
    for (const body of ['a', 'b', 'c', 'd']) send(body);
    send('a'); // four messages later: remembered across the switch of generations
    expect(repository.counts().sameContentMoreThanOnce).toBe(1);

    for (const body of ['e', 'f', 'g', 'h', 'i', 'j']) send(body);
    send('a'); // seven distinct ones later: forgotten, so not counted again
    send('j'); // the message before: counted
    expect(repository.counts().sameContentMoreThanOnce).toBe(2);
  });

  it('stays amortised O(1) when evicting many messages', () => {
    const repository = new MessageRepository(1000, 10);
    const started = performance.now();
    for (let i = 0; i < 200_000; i += 1)
      repository.append(message('a@x.org', `${i}`), { operationId: `${i}`, receivedAt: i });

    expect(repository.size).toBe(1000);
    expect(repository.query({ limit: 1 }).messages[0]?.operationId).toBe('199000');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('serialises a page exactly as JSON.stringify of the page (queryJson)', () => {
    const repository = new MessageRepository(10, 20);
    repository.append(message('a@x.org'), { operationId: 'op-a', receivedAt: 1_000 });
    repository.append(
      {
        senderAddress: 'noreply@example.org',
        content: {
          subject: 'Ünïcödé "quoted" \\ \u2028',
          html: `<p>${'x'.repeat(40)}</p>`,
          plainText: 'short',
        },
        recipients: {
          to: [{ address: 'b@x.org', displayName: 'B "the" Recipient' }],
          cc: [{ address: 'c@x.org' }],
          bcc: [],
        },
        replyTo: [{ address: 'reply@x.org' }],
        headers: { 'X-Trace': 'abc' },
        attachments: [{ name: 'a.txt', contentType: 'text/plain', contentInBase64: 'aGVsbG8=' }],
      },
      { operationId: 'op-b', receivedAt: 2_000, clientRequestId: 'client-1', ruleId: 'rule-1' },
    );
    repository.append(message('c@x.org'), { operationId: 'op-c', receivedAt: 3_000 });

    for (const query of [
      { limit: 10 },
      { limit: 2 },
      { after: 1, limit: 1 },
      { recipient: 'C@x.org', limit: 10 },
    ])
      expect(JSON.parse(repository.queryJson(query))).toEqual(
        JSON.parse(JSON.stringify(repository.query(query))),
      );
    expect(repository.queryJson({ limit: 2 })).toBe(JSON.stringify(repository.query({ limit: 2 })));
  });

  it('keeps at most `maxChars` of stored content, evicting the oldest, but always the newest message', () => {
    const repository = new MessageRepository(100, 1_000, 1_600);
    for (let i = 0; i < 10; i += 1)
      repository.append(message(`r${i}@x.org`, 'x'.repeat(400)), { operationId: `op${i}`, receivedAt: i });

    // ~525 characters each: three fit.
    expect(repository.query({ limit: 100 }).messages.map((m) => m.seq)).toEqual([8, 9, 10]);
    expect(repository.counts().evicted).toBe(7);

    repository.append(message('big@x.org', 'y'.repeat(1_000)), { operationId: 'big', receivedAt: 11 });
    repository.append(message('huge@x.org', 'z'.repeat(5_000)), { operationId: 'huge', receivedAt: 12 });
    expect(repository.query({ limit: 100 }).messages.map((m) => m.operationId)).toEqual(['huge']);
  });
});
