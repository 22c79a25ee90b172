import { brokerAddress, parseKafkaUrl } from './subscription.model';

describe(parseKafkaUrl.name, () => {
  it('parses one or several brokers, IPv6 in brackets', () => {
    expect(parseKafkaUrl('kafka://b1.example.com:9092, b2.example.com:9093')).toEqual({
      ok: true,
      brokers: [
        { host: 'b1.example.com', port: 9092 },
        { host: 'b2.example.com', port: 9093 },
      ],
    });
    expect(parseKafkaUrl('kafka://[2001:db8::1]:9092')).toEqual({
      ok: true,
      brokers: [{ host: '2001:db8::1', port: 9092 }],
    });
  });

  it.each([
    'http://b1:9092',
    'kafka://',
    'kafka://b1',
    'kafka://b1:0',
    'kafka://b1:65536',
    'kafka://user:pw@b1:9092',
    'kafka://b1:9092/topic',
    'kafka://b1:9092?x=1',
    'kafka://b1:9092,',
  ])('refuses %s', (url) => {
    expect(parseKafkaUrl(url)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/kafka:\/\/host:port/),
    });
  });
});

describe(brokerAddress.name, () => {
  it('writes host:port, IPv6 hosts in brackets', () => {
    expect(brokerAddress({ host: 'b1', port: 9092 })).toBe('b1:9092');
    expect(brokerAddress({ host: '::1', port: 9092 })).toBe('[::1]:9092');
  });
});
