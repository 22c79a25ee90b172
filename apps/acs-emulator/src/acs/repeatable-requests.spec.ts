import { createHash, randomUUID } from 'node:crypto';
import { REPEATABILITY_WINDOW_MS, RepeatableRequests } from './repeatable-requests';

const contentSha256 = (body: string): string => createHash('sha256').update(body).digest('base64');

describe('RepeatableRequests', () => {
  const start = Date.parse('2026-12-06T10:00:00Z');
  const bodySha256 = contentSha256('{"x":1}');
  const headersAt = (requestId: string, firstSentMs: number) => ({
    requestId,
    firstSent: new Date(firstSentMs).toUTCString(),
  });

  it('tracks a request for the 5-minute window: a repeat after it is refused with 412, and the entry is dropped', () => {
    const tracker = new RepeatableRequests(100);
    const requestId = randomUUID();
    const first = tracker.decide(
      headersAt(requestId, start),
      { operationId: undefined, contentSha256: bodySha256 },
      start,
    );
    if (first.kind !== 'execute') throw new Error(`expected execute, got ${first.kind}`);
    first.tracked.complete({ status: 202, body: {}, headers: {} });

    const withinWindow = tracker.decide(
      headersAt(requestId, start),
      { operationId: undefined, contentSha256: bodySha256 },
      start + REPEATABILITY_WINDOW_MS,
    );
    const afterWindow = tracker.decide(
      headersAt(requestId, start),
      { operationId: undefined, contentSha256: bodySha256 },
      start + REPEATABILITY_WINDOW_MS + 1_000,
    );
    tracker.decide(
      headersAt(randomUUID(), start + REPEATABILITY_WINDOW_MS + 1_000),
      { operationId: undefined, contentSha256: bodySha256 },
      start + REPEATABILITY_WINDOW_MS + 1_000,
    );

    expect(withinWindow.kind).toBe('replay');
    expect(afterWindow).toMatchObject({ kind: 'refuse', error: { status: 412 } });
    expect(tracker.size).toBe(1);
  });

  it('keeps at most `capacity` entries, oldest dropped first', () => {
    const tracker = new RepeatableRequests(2);
    for (let index = 0; index < 5; index += 1)
      tracker.decide(
        headersAt(randomUUID(), start),
        { operationId: undefined, contentSha256: bodySha256 },
        start,
      );

    expect(tracker.size).toBe(2);
  });

  it('executes again after an attempt that ended without an answer', () => {
    const tracker = new RepeatableRequests(10);
    const headers = headersAt(randomUUID(), start);
    const first = tracker.decide(headers, { operationId: undefined, contentSha256: bodySha256 }, start);
    if (first.kind !== 'execute') throw new Error(`expected execute, got ${first.kind}`);
    first.tracked.abandon();

    expect(
      tracker.decide(headers, { operationId: undefined, contentSha256: bodySha256 }, start + 1_000).kind,
    ).toBe('execute');
  });

  const acceptedReply = (operationId: string) => ({
    status: 202,
    body: { id: operationId, status: 'Running' },
    headers: {
      'Operation-Location': `http://127.0.0.1:5099/emails/operations/${operationId}?api-version=2025-09-01`,
      'retry-after': '1',
    },
  });

  it('replays exactly the recorded answer, its operation id included, and refuses a repeat that differs', () => {
    const tracker = new RepeatableRequests(100);
    const requestId = randomUUID().toUpperCase();
    const operationId = randomUUID();
    const content = { operationId, contentSha256: bodySha256 };
    const first = tracker.decide(headersAt(requestId, start), content, start);
    if (first.kind !== 'execute') throw new Error(`expected execute, got ${first.kind}`);

    const whileRunning = tracker.decide(headersAt(requestId, start), content, start + 10);
    first.tracked.complete(acceptedReply(operationId));
    const repeat = tracker.decide(headersAt(requestId.toLowerCase(), start), content, start + 20);
    const otherBody = tracker.decide(
      headersAt(requestId, start),
      { operationId, contentSha256: contentSha256('{"x":2}') },
      start + 30,
    );
    const otherOperation = tracker.decide(
      headersAt(requestId, start),
      { operationId: randomUUID(), contentSha256: bodySha256 },
      start + 40,
    );

    expect(whileRunning).toMatchObject({ kind: 'refuse', error: { status: 409 } });
    expect(repeat).toEqual({ kind: 'replay', reply: acceptedReply(operationId) });
    expect(otherBody).toMatchObject({ kind: 'refuse', error: { status: 400 } });
    expect(otherOperation).toMatchObject({ kind: 'refuse', error: { status: 400 } });
  });

  it('records the answer of a request whose entry moved while it executed (the table grew)', () => {
    const tracker = new RepeatableRequests(100_000);
    const requestId = randomUUID();
    const operationId = randomUUID();
    const first = tracker.decide(
      headersAt(requestId, start),
      { operationId, contentSha256: bodySha256 },
      start,
    );
    if (first.kind !== 'execute') throw new Error(`expected execute, got ${first.kind}`);
    for (let index = 0; index < 5_000; index += 1)
      tracker.decide(
        headersAt(randomUUID(), start),
        { operationId: undefined, contentSha256: bodySha256 },
        start,
      );
    first.tracked.complete(acceptedReply(operationId));

    expect(
      tracker.decide(headersAt(requestId, start), { operationId, contentSha256: bodySha256 }, start),
    ).toEqual({
      kind: 'replay',
      reply: acceptedReply(operationId),
    });
  });

  it('answers like a plain map of every tracked request, through growth, expiry and eviction', () => {
    const capacity = 3_000;
    const tracker = new RepeatableRequests(capacity, 60_000);
    const model = new Map<string, { firstSentMs: number; operationId: string }>();
    const ids: string[] = [];
    let now = start;
    let replays = 0;
    let executedAgain = 0;
    for (let step = 0; step < 20_000; step += 1) {
      now += 7;
      // Mostly new requests, some repeats of recent and of long-gone ones.
      const repeatOf = step % 5 === 0 && ids.length > 0 ? ids[ids.length - 1 - (step % 4_000)] : undefined;
      const requestId = repeatOf ?? randomUUID();
      const known = model.get(requestId);
      const firstSentMs = known?.firstSentMs ?? now;
      const operationId = known?.operationId ?? randomUUID();
      const decision = tracker.decide(
        headersAt(requestId, firstSentMs),
        { operationId, contentSha256: bodySha256 },
        now,
      );
      // Whole seconds: the IMF-fixdate header has no milliseconds.
      const firstSentSecond = Math.floor(firstSentMs / 1000) * 1000;
      const tracked = known !== undefined && now - firstSentSecond <= 60_000;
      if (now - firstSentSecond > 60_000) {
        expect(decision).toMatchObject({ kind: 'refuse', error: { status: 412 } });
      } else if (tracked) {
        expect(decision).toEqual({ kind: 'replay', reply: acceptedReply(operationId) });
        replays += 1;
      } else {
        if (repeatOf !== undefined) executedAgain += 1;
        if (decision.kind !== 'execute')
          throw new Error(`step ${step}: expected execute, got ${decision.kind}`);
        decision.tracked.complete(acceptedReply(operationId));
        model.set(requestId, { firstSentMs, operationId });
        ids.push(requestId);
      }
      // The model forgets as the tracker must: expired first-sent times, and beyond capacity the oldest.
      for (const [id, entry] of model) {
        if (now - Math.floor(entry.firstSentMs / 1000) * 1000 <= 60_000 && model.size <= capacity) break;
        model.delete(id);
      }
      expect(tracker.size).toBe(model.size);
    }
    // Both kinds of repeat happened: of tracked requests, and of requests already forgotten.
    expect(replays).toBeGreaterThan(200);
    expect(executedAgain).toBeGreaterThan(200);
  });

  it('forgets everything on clear, and an answer to a request tracked before it records nothing', () => {
    const tracker = new RepeatableRequests(100);
    const requestId = randomUUID();
    const operationId = randomUUID();
    const first = tracker.decide(
      headersAt(requestId, start),
      { operationId, contentSha256: bodySha256 },
      start,
    );
    if (first.kind !== 'execute') throw new Error(`expected execute, got ${first.kind}`);
    tracker.clear();
    const again = tracker.decide(
      headersAt(requestId, start),
      { operationId, contentSha256: bodySha256 },
      start,
    );
    first.tracked.complete(acceptedReply(operationId));

    expect(again.kind).toBe('execute');
    expect(
      tracker.decide(headersAt(requestId, start), { operationId, contentSha256: bodySha256 }, start),
    ).toMatchObject({
      kind: 'refuse',
      error: { status: 409 },
    });
  });
});
