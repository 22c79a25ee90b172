import { AddressPolicy } from '../domain/address-policy';
import { KafkaDeliveryError, KafkaDestinationPool } from './kafka-destinations';
import { OutboundGuard } from './outbound-guard';

describe(KafkaDestinationPool.name, () => {
  const pool = () =>
    new KafkaDestinationPool(new OutboundGuard(new AddressPolicy([])), {
      maxProducers: 1,
      idleMs: 1_000,
      deliveryTimeoutMs: 1_000,
    });
  const record = { topic: 't', key: 'k', value: 'v', headers: {} };

  it('refuses an invalid destination URL for good, without a producer', async () => {
    const subject = pool();
    const failure = subject.send({ url: 'kafka://h1', topic: 't' }, [record]);
    await expect(failure).rejects.toBeInstanceOf(KafkaDeliveryError);
    await expect(failure).rejects.toMatchObject({
      reason: 'the destination URL h1 has no port',
      permanent: true,
    });
    expect(subject.stats.producersCreated).toBe(0);
  });

  it('sends nothing for no records, and nothing after close', async () => {
    const subject = pool();
    await subject.send({ url: 'kafka://h1:9092', topic: 't' }, []);
    expect(subject.stats.producersCreated).toBe(0);
    await subject.close();
    await expect(subject.send({ url: 'kafka://h1:9092', topic: 't' }, [record])).rejects.toMatchObject({
      reason: 'the Kafka destination pool is shut down',
    });
  });
});
