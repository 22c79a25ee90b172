import {
  correctKafkajsRequestQueue,
  kafkajsRequestQueueClass,
  type KafkajsRequestQueue,
} from './kafkajs-request-queue';

const silentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe("kafkajs' request queue, corrected", () => {
  let queue: KafkajsRequestQueue;

  beforeAll(() => {
    expect(correctKafkajsRequestQueue()).toBe(true);
  });

  beforeEach(() => {
    const RequestQueue = kafkajsRequestQueueClass();
    queue = new RequestQueue({ logger: silentLogger, clientId: 'test', broker: 'localhost:9092' });
  });

  afterEach(() => {
    if (queue.throttleCheckTimeoutId !== null) clearTimeout(queue.throttleCheckTimeoutId);
  });

  it('arms no timer after a check when no request is pending (kafkajs 2.2.4 armed a 1 ms one every time)', () => {
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('still schedules the check of a request that waits for a broker throttle to end', () => {
    queue.throttledUntil = Date.now() + 60_000;
    queue.pending.push({ correlationId: 1 });
    queue.scheduleCheckPendingRequests();
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
  });
});
