import { AddressPolicy, parseAllowEntry, type AllowEntry } from '../domain/address-policy';
import { OutboundHttpClient } from '../clients/outbound-http.client';
import { SUBSCRIPTION_LIMITS, validateSubscriptionRequest } from './subscription.request';

const now = new Date('2026-03-15T12:00:00Z');
const guard = (...allowed: string[]) =>
  new OutboundHttpClient(new AddressPolicy(allowed.map((entry) => parseAllowEntry(entry) as AllowEntry)));
// Production's guard: an empty allow-list.
const production = guard();
const validate = (body: unknown, outbound = production) =>
  validateSubscriptionRequest(body, { now, checkUrl: (url) => outbound.checkUrl(url) });

const http = {
  events: ['notification.status'],
  notification: { http: { url: 'https://hooks.example.no/n' } },
};
const kafka = {
  events: ['order.completed'],
  notification: { kafka: { url: 'kafka://b1.example.no:9092,b2.example.no:9092', topic: 'notify-events' } },
};

function errorsOf(body: unknown, outbound = production): Record<string, string[]> {
  const result = validate(body, outbound);
  if (result.ok) throw new Error('expected validation errors');
  return result.errors;
}

describe(validateSubscriptionRequest.name, () => {
  it('accepts a minimal HTTP subscription and applies the defaults', () => {
    expect(validate(http)).toEqual({
      ok: true,
      request: {
        filter: {},
        events: ['notification.status'],
        destination: { http: { url: 'https://hooks.example.no/n', maxEventsPerRequest: 1 } },
      },
    });
  });

  it('accepts a full Kafka subscription; tls: true is TLS with the default trust', () => {
    const result = validate({
      description: 'tax campaign callbacks',
      filter: { sendersReference: 'tax-2026', resourceId: 'urn:altinn:resource:tax' },
      events: ['notification.status', 'order.completed'],
      notification: {
        kafka: {
          ...kafka.notification.kafka,
          sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
          tls: true,
        },
      },
      custom: { payload: { id: '${orderId}', to: '${recipient}' }, topic: 'events.${status}' },
      expires: '2027-01-01T00:00:00Z',
    });
    expect(result).toEqual({
      ok: true,
      request: {
        description: 'tax campaign callbacks',
        filter: { sendersReference: 'tax-2026', resourceId: 'urn:altinn:resource:tax' },
        events: ['notification.status', 'order.completed'],
        destination: {
          kafka: {
            url: 'kafka://b1.example.no:9092,b2.example.no:9092',
            topic: 'notify-events',
            sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
            tls: {},
          },
        },
        custom: { payload: { id: '${orderId}', to: '${recipient}' }, topic: 'events.${status}' },
        expires: new Date('2027-01-01T00:00:00Z'),
      },
    });
  });

  it('keeps a TLS CA and the verification switch', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const result = validate({
      ...kafka,
      notification: { kafka: { ...kafka.notification.kafka, tls: { ca, rejectUnauthorized: false } } },
    });
    expect(result.ok && result.request.destination).toEqual({
      kafka: { ...kafka.notification.kafka, tls: { ca, rejectUnauthorized: false } },
    });
    expect(
      errorsOf({ ...kafka, notification: { kafka: { ...kafka.notification.kafka, tls: { ca: 'nope' } } } }),
    ).toEqual({ 'notification.kafka.tls.ca': [expect.stringMatching(/PEM/)] });
  });

  it('treats null as absent and an empty custom block as none', () => {
    const result = validate({
      ...http,
      description: null,
      filter: null,
      custom: { payload: null },
      expires: null,
    });
    expect(result).toEqual(validate(http));
  });

  it.each([
    [{ ...http, events: [] }, 'events', /at least one/],
    [
      { ...http, events: ['notification.sent'] },
      'events[0]',
      /must be one of notification.status, order.completed/,
    ],
    [{ ...http, events: ['order.completed', 'order.completed'] }, 'events', /twice/],
    [{ ...http, notification: {} }, 'notification', /exactly one of http or kafka/],
    [
      { ...http, notification: { ...http.notification, ...kafka.notification } },
      'notification',
      /exactly one/,
    ],
    [
      { ...http, notification: { http: { url: 'ftp://hooks.example.no/' } } },
      'notification.http.url',
      /http or https/,
    ],
    [
      { ...http, notification: { http: { url: 'hooks.example.no' } } },
      'notification.http.url',
      /absolute URL/,
    ],
    [
      { ...http, notification: { http: { url: 'http://169.254.169.254/latest' } } },
      'notification.http.url',
      /link-local address, which is refused/,
    ],
    [
      { ...http, notification: { http: { url: 'https://hooks.example.no/', maxEventsPerRequest: 501 } } },
      'notification.http.maxEventsPerRequest',
      /at most 500/,
    ],
    [
      { ...kafka, notification: { kafka: { ...kafka.notification.kafka, url: 'http://b1:9092' } } },
      'notification.kafka.url',
      /must start with kafka:\/\//,
    ],
    [
      {
        ...kafka,
        notification: {
          kafka: { ...kafka.notification.kafka, url: 'kafka://b1.example.no:9092,10.0.0.1:9092' },
        },
      },
      'notification.kafka.url',
      /broker 10.0.0.1:9092 points to a private address/,
    ],
    [
      { ...kafka, notification: { kafka: { ...kafka.notification.kafka, topic: 'events/${orderId}' } } },
      'notification.kafka.topic',
      /Kafka topic name/,
    ],
    [
      {
        ...kafka,
        notification: {
          kafka: { ...kafka.notification.kafka, sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } },
        },
      },
      'notification.kafka.sasl.mechanism',
      /plain, scram-sha-256, scram-sha-512/,
    ],
    [
      {
        ...kafka,
        notification: {
          kafka: { ...kafka.notification.kafka, sasl: { mechanism: 'plain', username: 'u', password: '' } },
        },
      },
      'notification.kafka.sasl.password',
      /must not be empty/,
    ],
    [
      { ...http, custom: { payload: '${orderId} ${nope}' } },
      'custom.payload',
      /unknown macro\(s\) \$\{nope\}/,
    ],
    [{ ...kafka, custom: { topic: 'events.${recipient}' } }, 'custom.topic', /\$\{recipient\}/],
    [{ ...http, custom: { topic: 'events' } }, 'custom.topic', /kafka destinations only/],
    [{ ...http, expires: '2026-03-15T11:59:59Z' }, 'expires', /in the future/],
    [{ ...http, expires: '2027-01-01' }, 'expires', /time zone/],
    [
      { ...http, description: 'x'.repeat(SUBSCRIPTION_LIMITS.descriptionMaxLength + 1) },
      'description',
      /at most 500/,
    ],
    [{ ...http, filter: { resourceId: 'tax' } }, 'filter.resourceId', /urn:altinn:resource:/],
    [{ ...http, filter: { sendersReference: ' ' } }, 'filter.sendersReference', /must not be empty/],
    [{ ...http, custom: { payload: { text: 'a\u0000b' } } }, 'custom.payload.text', /NUL/],
  ])('refuses %j naming %s', (body, field, message) => {
    const errors = errorsOf(body);
    expect(Object.keys(errors)).toContain(field);
    expect(errors[field]?.join(' ')).toMatch(message);
  });

  it('asks the outbound guard: an allow-listed private broker or URL passes, as loopback does in development', () => {
    const development = guard('localhost', '127.0.0.0/8', '::1', '10.0.0.0/8');
    expect(
      validate(
        {
          ...kafka,
          notification: {
            kafka: { ...kafka.notification.kafka, url: 'kafka://10.0.0.1:9092,localhost:9093' },
          },
        },
        development,
      ).ok,
    ).toBe(true);
    expect(
      validate({ ...http, notification: { http: { url: 'http://127.0.0.1:8080/hook' } } }, development).ok,
    ).toBe(true);
    expect(errorsOf({ ...http, notification: { http: { url: 'http://127.0.0.1:8080/hook' } } })).toEqual({
      'notification.http.url': [expect.stringMatching(/loopback address, which is refused/)],
    });
  });
});
