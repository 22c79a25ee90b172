import { MAX_KAFKA_URL_BROKERS, parseKafkaUrl } from './subscription.model';

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
