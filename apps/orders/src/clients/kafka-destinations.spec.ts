import { AddressPolicy, parseAllowEntry, type AllowEntry } from '../domain/address-policy';
import {
  checkKafkaUrl,
  KafkaDeliveryError,
  KafkaDestinationPool,
  MAX_KAFKA_URL_BROKERS,
  parseKafkaUrl,
} from './kafka-destinations';
import { OutboundGuard } from './outbound-guard';

describe(parseKafkaUrl.name, () => {
  it('reads the bootstrap brokers as host:port, lower case', () => {
    expect(parseKafkaUrl('kafka://h1:9092,h2:9093')).toEqual({ ok: true, brokers: ['h1:9092', 'h2:9093'] });
    expect(parseKafkaUrl('KAFKA://Broker.Example.NO:9092, 10.0.0.1:1')).toEqual({
      ok: true,
      brokers: ['broker.example.no:9092', '10.0.0.1:1'],
    });
    expect(parseKafkaUrl('kafka://h:65535')).toEqual({ ok: true, brokers: ['h:65535'] });
  });

  it.each([
    ['https://h1:9092', 'must start with kafka://'],
    ['h1:9092', 'must start with kafka://'],
    ['kafka://', 'has an empty broker entry'],
    ['kafka://h1:9092,', 'has an empty broker entry'],
    ['kafka://h1', 'h1 has no port'],
    ['kafka://h1:', 'h1: has an invalid port (1..65535)'],
    ['kafka://h1:0', 'h1:0 has an invalid port (1..65535)'],
    ['kafka://h1:65536', 'h1:65536 has an invalid port (1..65535)'],
    ['kafka://h1:90x2', 'h1:90x2 has an invalid port (1..65535)'],
    ['kafka://h_1!:9092', 'h_1!:9092 has an invalid host'],
    ['kafka://:9092', ':9092 has an invalid host'],
    ['kafka://user:secret@h1:9092', 'must list host:port pairs only (no credentials, path or query)'],
    ['kafka://h1:9092/topic', 'must list host:port pairs only (no credentials, path or query)'],
    ['kafka://h1:9092?x=1', 'must list host:port pairs only (no credentials, path or query)'],
    ['kafka://[::1]:9092', '[::1]:9092: IPv6 literals are not supported, use a host name'],
    ['kafka://::1:9092', '::1:9092: IPv6 literals are not supported, use a host name'],
  ])('refuses %s: %s', (url, reason) => {
    expect(parseKafkaUrl(url)).toEqual({ ok: false, reason });
  });

  it(`accepts at most ${MAX_KAFKA_URL_BROKERS} brokers`, () => {
    const brokers = (count: number) =>
      `kafka://${Array.from({ length: count }, (_, index) => `b${index}:9092`).join(',')}`;
    expect(parseKafkaUrl(brokers(MAX_KAFKA_URL_BROKERS)).ok).toBe(true);
    expect(parseKafkaUrl(brokers(MAX_KAFKA_URL_BROKERS + 1))).toEqual({
      ok: false,
      reason: `lists more than ${MAX_KAFKA_URL_BROKERS} brokers`,
    });
  });
});

describe(checkKafkaUrl.name, () => {
  const guard = (...entries: string[]) =>
    new OutboundGuard(new AddressPolicy(entries.map((entry) => parseAllowEntry(entry) as AllowEntry)));

  it('refuses, without DNS, a broker on a refused address or localhost unless allow-listed', () => {
    expect(checkKafkaUrl('kafka://broker.example:9092,10.1.2.3:9092', guard())).toEqual({
      ok: false,
      reason:
        'broker 10.1.2.3:9092 points to a private address, which is refused (not on the outbound allow-list)',
    });
    expect(checkKafkaUrl('kafka://localhost:9092', guard())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^broker localhost:9092 points to a loopback address/),
    });
    expect(checkKafkaUrl('kafka://10.1.2.3:9092,localhost:9092', guard('10.0.0.0/8', 'localhost'))).toEqual({
      ok: true,
      brokers: ['10.1.2.3:9092', 'localhost:9092'],
    });
    // Names are for the connect to judge (with what they resolve to then).
    expect(checkKafkaUrl('kafka://broker.example:9092', guard()).ok).toBe(true);
    expect(checkKafkaUrl('kafka://broker.example', guard())).toEqual({
      ok: false,
      reason: 'broker.example has no port',
    });
  });
});

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
