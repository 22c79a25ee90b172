import { randomUUID } from 'node:crypto';
import { REPEATABILITY_WINDOW_MS, RepeatableRequests } from './repeatable-requests';

describe('RepeatableRequests', () => {
  const start = Date.parse('2026-12-06T10:00:00Z');
  const body = Buffer.from('{"x":1}');
  const headersAt = (requestId: string, firstSentMs: number) => ({
    requestId,
    firstSent: new Date(firstSentMs).toUTCString(),
  });

  it('tracks a request for the 5-minute window: a repeat after it is refused with 412, and the entry is dropped', () => {
    const tracker = new RepeatableRequests(100);
    const requestId = randomUUID();
    const first = tracker.decide(headersAt(requestId, start), { operationId: undefined, body }, start);
    if (first.kind !== 'execute') throw new Error(`expected execute, got ${first.kind}`);
    first.tracked.complete({ status: 202, body: {}, headers: {} });

    const withinWindow = tracker.decide(
      headersAt(requestId, start),
      { operationId: undefined, body },
      start + REPEATABILITY_WINDOW_MS,
    );
    const afterWindow = tracker.decide(
      headersAt(requestId, start),
      { operationId: undefined, body },
      start + REPEATABILITY_WINDOW_MS + 1_000,
    );
    tracker.decide(
      headersAt(randomUUID(), start + REPEATABILITY_WINDOW_MS + 1_000),
      { operationId: undefined, body },
      start + REPEATABILITY_WINDOW_MS + 1_000,
    );

    expect(withinWindow.kind).toBe('replay');
    expect(afterWindow).toMatchObject({ kind: 'refuse', error: { status: 412 } });
    expect(tracker.size).toBe(1);
  });

  it('keeps at most `capacity` entries, oldest dropped first', () => {
    const tracker = new RepeatableRequests(2);
    for (let index = 0; index < 5; index += 1)
      tracker.decide(headersAt(randomUUID(), start), { operationId: undefined, body }, start);

    expect(tracker.size).toBe(2);
  });

  it('executes again after an attempt that ended without an answer', () => {
    const tracker = new RepeatableRequests(10);
    const headers = headersAt(randomUUID(), start);
    const first = tracker.decide(headers, { operationId: undefined, body }, start);
    if (first.kind !== 'execute') throw new Error(`expected execute, got ${first.kind}`);
    first.tracked.abandon();

    expect(tracker.decide(headers, { operationId: undefined, body }, start + 1_000).kind).toBe('execute');
  });
});
