import { ConsoleLogger, Logger } from '@nestjs/common';
import { type SendNotificationOperationIdentifier } from '@notifications/contracts';
import { KafkaContext, type KafkaBatchMessage } from '@notifications/messaging/nest';
import { SendingAcceptedConsumer } from './sending-accepted.consumer';
import { type PollOutcome, type PollRequest, type StatusPollingService } from './status-polling.service';

function batchMessage(id: string, offset: number): KafkaBatchMessage<SendNotificationOperationIdentifier> {
  const message = { notificationId: id, operationId: id, lastStatusCheck: '2026-12-07T07:00:00.000Z' };
  const context = new KafkaContext({
    topic: 'accepted',
    receivedFrom: 'accepted',
    partition: 0,
    offset: String(offset),
    key: id,
    headers: { traceparent: `t-${id}` },
    timestamp: '0',
    attempt: 1,
    maybeHandledBefore: false,
    maxAttempts: 3,
    isLastAttempt: false,
    heartbeat: () => Promise.resolve(),
  });
  return { message, context };
}

/** A polling service whose batch outcomes are given (the real one is tested in its own spec). */
function consumerAnswering(settled: PromiseSettledResult<PollOutcome>[]): {
  consumer: SendingAcceptedConsumer;
  requests: PollRequest[][];
} {
  const requests: PollRequest[][] = [];
  const polling = {
    pollBatch: (batch: readonly PollRequest[]) => {
      requests.push([...batch]);
      return Promise.resolve(settled);
    },
  } as unknown as StatusPollingService;
  return { consumer: new SendingAcceptedConsumer(polling), requests };
}

describe(SendingAcceptedConsumer.name, () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  it('reports each message whose outcome was not published as failed at its index; the others count as handled', async () => {
    const broken = new Error('broker said no');
    const { consumer, requests } = consumerAnswering([
      { status: 'fulfilled', value: { action: 'reported' } },
      { status: 'rejected', reason: broken },
      { status: 'fulfilled', value: { action: 'finished', sendResult: 'Succeeded', detail: 'Succeeded' } },
    ]);
    const messages = [batchMessage('a', 10), batchMessage('b', 11), batchMessage('c', 12)];
    const outcome = await consumer.acceptedBatch(messages);
    expect([...outcome.failures]).toEqual([[1, broken]]);
    expect(requests).toEqual([
      messages.map(({ message, context }) => ({ message, headers: context.headers })),
    ]);
  });

  it('reports a message the batch gave no outcome as failed, so the runner never commits past it', async () => {
    const { consumer } = consumerAnswering([{ status: 'fulfilled', value: { action: 'reported' } }]);
    const outcome = await consumer.acceptedBatch([batchMessage('a', 10), batchMessage('b', 11)]);
    expect([...outcome.failures.keys()]).toEqual([1]);
  });
});
