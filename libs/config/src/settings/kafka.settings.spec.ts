import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config.error';
import { loadConfig } from '../load-config';
import { redactConfig } from '../redact';
import { kafkaSettings } from './kafka.settings';

const load = (env: Record<string, string>) =>
  loadConfig(z.object({ kafka: kafkaSettings('email-sender') }), env).kafka;

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const TLS = join(__dirname, '..', '..', 'test', 'fixtures', 'kafka-tls');
const tlsFile = (name: string) => join(TLS, name);
const pem = (name: string) => readFileSync(tlsFile(name), 'utf8');

describe(kafkaSettings.name, () => {
  it('has no SASL settings by default and derives the client id from the app name', () => {
    const kafka = load({});

    expect(kafka.sasl).toBeUndefined();
    expect(kafka.clientId).toBe('notifications-email-sender');
  });

  it("fetches kafkajs' 1 MiB per partition unless the app or the variable says otherwise", () => {
    const withDefault = (env: Record<string, string>) =>
      loadConfig(
        z.object({ kafka: kafkaSettings('email-sender', { fetchMaxBytesPerPartition: 524_288 }) }),
        env,
      ).kafka.fetchMaxBytesPerPartition;

    expect(load({}).fetchMaxBytesPerPartition).toBe(1_048_576);
    expect(withDefault({})).toBe(524_288);
    expect(withDefault({ KAFKA_FETCH_MAX_BYTES_PER_PARTITION: '2097152' })).toBe(2_097_152);
  });

  it('reads every setting', () => {
    const kafka = load({
      KAFKA_BROKERS: 'kafka-0.kafka:9093, kafka-1.kafka:9093,[::1]:9094',
      KAFKA_CLIENT_ID: 'sender-7',
      KAFKA_SSL: 'yes',
      KAFKA_TOPIC_PARTITIONS: '12',
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TOPIC_RETENTION_MS: '365d',
      KAFKA_COMPRESSION: 'gzip',
      KAFKA_MAX_REQUEST_BYTES: '500000',
      KAFKA_CONSUMER_CONCURRENCY: '6',
      KAFKA_SESSION_TIMEOUT_MS: '45s',
      KAFKA_SHUTDOWN_TIMEOUT_MS: '5s',
      KAFKA_FETCH_MAX_BYTES_PER_PARTITION: '262144',
    });

    expect(kafka).toEqual({
      brokers: ['kafka-0.kafka:9093', 'kafka-1.kafka:9093', '[::1]:9094'],
      clientId: 'sender-7',
      ssl: { rejectUnauthorized: true },
      topics: { partitions: 12, replicationFactor: 3, retentionMs: 365 * 86_400_000 },
      compression: 'gzip',
      maxRequestBytes: 500_000,
      consumerConcurrency: 6,
      fetchMaxBytesPerPartition: 262_144,
      sessionTimeoutMs: 45_000,
      shutdownTimeoutMs: 5_000,
    });
  });

  describe('in production (APP_ENV or NODE_ENV)', () => {
    it('refuses plaintext and replication factor 1, the development defaults, in one error', () => {
      expect(problems({ APP_ENV: 'production' })).toEqual([
        expect.stringMatching(/^KAFKA_SSL: plaintext Kafka is refused in production: set KAFKA_SSL=true/),
        expect.stringMatching(
          /^KAFKA_TOPIC_REPLICATION_FACTOR: replication factor 1 is refused in production/,
        ),
      ]);
      expect(
        problems({ NODE_ENV: 'production', KAFKA_SSL: 'false', KAFKA_TOPIC_REPLICATION_FACTOR: '1' }),
      ).toEqual([
        expect.stringMatching(/^KAFKA_SSL: .*got "false"$/),
        expect.stringMatching(/^KAFKA_TOPIC_REPLICATION_FACTOR: .*got "1"$/),
      ]);
    });

    it('accepts TLS with three replicas, or each one explicitly allowed', () => {
      expect(
        load({ APP_ENV: 'production', KAFKA_SSL: 'true', KAFKA_TOPIC_REPLICATION_FACTOR: '3' }).ssl,
      ).toEqual({
        rejectUnauthorized: true,
      });
      const allowed = load({
        APP_ENV: 'production',
        KAFKA_ALLOW_PLAINTEXT_IN_PRODUCTION: 'true',
        KAFKA_ALLOW_REPLICATION_FACTOR_1_IN_PRODUCTION: 'true',
      });
      expect(allowed).toMatchObject({ ssl: false, topics: { replicationFactor: 1 } });
    });

    it('does not apply when APP_ENV says otherwise (APP_ENV wins over NODE_ENV)', () => {
      expect(load({ NODE_ENV: 'production', APP_ENV: 'test' }).ssl).toBe(false);
      expect(load({ APP_ENV: 'development' }).topics.replicationFactor).toBe(1);
    });
  });

  it('reads a topic suffix and rejects one that would make illegal topic names', () => {
    expect(load({ KAFKA_TOPIC_SUFFIX: 'e2e-7' }).topicSuffix).toBe('e2e-7');
    expect(problems({ KAFKA_TOPIC_SUFFIX: 'a.b' })).toEqual([
      'KAFKA_TOPIC_SUFFIX: expected letters, digits, _ and - (at most 60), got "a.b"',
    ]);
  });

  it.each(['foo', 'host:', ':9092', 'host:0', 'host:65536', 'a:1,b', 'bad_host:1'])(
    'rejects the broker list %j',
    (brokers) => {
      expect(problems({ KAFKA_BROKERS: brokers })).toEqual([
        `KAFKA_BROKERS: expected host:port list, got ${JSON.stringify(brokers)}`,
      ]);
    },
  );

  it('uses one credential pair per role, falling back to the shared pair', () => {
    const kafka = load({
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_USERNAME: 'shared',
      KAFKA_PASSWORD: 'shared-pw',
      KAFKA_ADMIN_USERNAME: 'admin',
      KAFKA_ADMIN_PASSWORD: 'admin-pw',
    });

    expect(kafka.sasl).toEqual({
      mechanism: 'scram-sha-512',
      admin: { username: 'admin', password: 'admin-pw' },
      producer: { username: 'shared', password: 'shared-pw' },
      consumer: { username: 'shared', password: 'shared-pw' },
    });
  });

  it('requires credentials for every role when a SASL mechanism is set', () => {
    expect(
      problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_PRODUCER_USERNAME: 'p', KAFKA_PRODUCER_PASSWORD: 'x' }),
    ).toEqual([
      'KAFKA_ADMIN_USERNAME: required when KAFKA_SASL_MECHANISM is plain (or set KAFKA_USERNAME and KAFKA_PASSWORD for all roles)',
      'KAFKA_ADMIN_PASSWORD: required when KAFKA_SASL_MECHANISM is plain (or set KAFKA_USERNAME and KAFKA_PASSWORD for all roles)',
      'KAFKA_CONSUMER_USERNAME: required when KAFKA_SASL_MECHANISM is plain (or set KAFKA_USERNAME and KAFKA_PASSWORD for all roles)',
      'KAFKA_CONSUMER_PASSWORD: required when KAFKA_SASL_MECHANISM is plain (or set KAFKA_USERNAME and KAFKA_PASSWORD for all roles)',
    ]);
  });

  it('requires both halves of a pair', () => {
    expect(
      problems({
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_USERNAME: 'u',
        KAFKA_PASSWORD: 'p',
        KAFKA_CONSUMER_USERNAME: 'c',
      }),
    ).toEqual(['KAFKA_CONSUMER_PASSWORD: required when KAFKA_CONSUMER_USERNAME is set']);
    expect(problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_PASSWORD: 'p' })).toEqual([
      'KAFKA_USERNAME: required when KAFKA_PASSWORD is set',
    ]);
  });

  describe('TLS', () => {
    it('is off by default', () => {
      expect(load({}).ssl).toBe(false);
    });

    it('reads the CA, the client certificate and key (mutual TLS) and the server name once', () => {
      const kafka = load({
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: tlsFile('ca.pem'),
        KAFKA_SSL_CERT_FILE: tlsFile('client.pem'),
        KAFKA_SSL_KEY_FILE: tlsFile('client-key.pem'),
        KAFKA_SSL_SERVERNAME: 'kafka.internal.example',
      });

      expect(kafka.ssl).toEqual({
        ca: pem('ca.pem'),
        cert: pem('client.pem'),
        key: pem('client-key.pem'),
        servername: 'kafka.internal.example',
        rejectUnauthorized: true,
      });
    });

    it('opens an encrypted key with KAFKA_SSL_KEY_PASSWORD', () => {
      const kafka = load({
        KAFKA_SSL: 'true',
        KAFKA_SSL_CERT_FILE: tlsFile('client.pem'),
        KAFKA_SSL_KEY_FILE: tlsFile('client-key.encrypted.pem'),
        KAFKA_SSL_KEY_PASSWORD: 'fixture-passphrase',
      });

      expect(kafka.ssl).toEqual({
        cert: pem('client.pem'),
        key: pem('client-key.encrypted.pem'),
        keyPassword: 'fixture-passphrase',
        rejectUnauthorized: true,
      });
    });

    it('keeps the private key and its password out of logged configuration', () => {
      const config = loadConfig(z.object({ kafka: kafkaSettings('orders') }), {
        KAFKA_SSL: 'true',
        KAFKA_SSL_CERT_FILE: tlsFile('client.pem'),
        KAFKA_SSL_KEY_FILE: tlsFile('client-key.encrypted.pem'),
        KAFKA_SSL_KEY_PASSWORD: 'fixture-passphrase',
      });

      const logged = JSON.stringify(redactConfig(config));
      expect(logged).not.toContain('PRIVATE KEY');
      expect(logged).not.toContain('fixture-passphrase');
      expect(logged).toContain('"key":"***"');
    });

    it('allows turning certificate verification off explicitly', () => {
      expect(load({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }).ssl).toEqual({
        rejectUnauthorized: false,
      });
    });

    it('names the variable of a missing or unreadable file', () => {
      const missing = join(TLS, 'no-such-ca.pem');
      expect(
        problems({
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: missing,
          KAFKA_SSL_CERT_FILE: TLS,
          KAFKA_SSL_KEY_FILE: missing,
        }),
      ).toEqual([
        `KAFKA_SSL_CA_FILE: expected a readable PEM file (file not found), got ${JSON.stringify(missing)}`,
        `KAFKA_SSL_CERT_FILE: expected a readable PEM file (a directory, not a file), got ${JSON.stringify(TLS)}`,
        // *_KEY_* variables count as secrets: their values are never echoed
        'KAFKA_SSL_KEY_FILE: expected a readable PEM file (file not found)',
      ]);
    });

    it('refuses files that hold the wrong kind of PEM', () => {
      expect(
        problems({
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: tlsFile('client-key.pem'),
          KAFKA_SSL_CERT_FILE: tlsFile('client.pem'),
          KAFKA_SSL_KEY_FILE: tlsFile('ca.pem'),
        }),
      ).toEqual([
        `KAFKA_SSL_CA_FILE: expected a PEM file with at least one CERTIFICATE block, got ${JSON.stringify(tlsFile('client-key.pem'))}`,
        'KAFKA_SSL_KEY_FILE: expected a PEM file with a PRIVATE KEY block',
      ]);
    });

    it('requires the certificate and the key together, and a key that belongs to the certificate', () => {
      expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: tlsFile('client-key.pem') })).toEqual([
        'KAFKA_SSL_CERT_FILE: required when KAFKA_SSL_KEY_FILE is set (mutual TLS)',
      ]);
      expect(
        problems({
          KAFKA_SSL: 'true',
          KAFKA_SSL_CERT_FILE: tlsFile('client.pem'),
          KAFKA_SSL_KEY_FILE: tlsFile('other-key.pem'),
        }),
      ).toEqual([
        'KAFKA_SSL_KEY_FILE: the key does not belong to the first certificate in KAFKA_SSL_CERT_FILE',
      ]);
    });

    it('reports an encrypted key without its password, and a wrong password without echoing it', () => {
      const encrypted = {
        KAFKA_SSL: 'true',
        KAFKA_SSL_CERT_FILE: tlsFile('client.pem'),
        KAFKA_SSL_KEY_FILE: tlsFile('client-key.encrypted.pem'),
      };
      expect(problems(encrypted)).toEqual([
        'KAFKA_SSL_KEY_FILE: the private key cannot be read (encrypted? then set KAFKA_SSL_KEY_PASSWORD)',
      ]);
      expect(problems({ ...encrypted, KAFKA_SSL_KEY_PASSWORD: 'guess' })).toEqual([
        'KAFKA_SSL_KEY_PASSWORD: does not decrypt the key in KAFKA_SSL_KEY_FILE',
      ]);
    });

    it('refuses TLS settings while KAFKA_SSL is off, so credentials never go out in plaintext by mistake', () => {
      expect(
        problems({ KAFKA_SSL_CA_FILE: tlsFile('ca.pem'), KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }),
      ).toEqual([
        `KAFKA_SSL_CA_FILE: set, but KAFKA_SSL is false (set KAFKA_SSL=true to use TLS), got ${JSON.stringify(tlsFile('ca.pem'))}`,
        'KAFKA_SSL_REJECT_UNAUTHORIZED: set, but KAFKA_SSL is false (set KAFKA_SSL=true to use TLS), got "false"',
      ]);
    });

    it('rejects a server name that is not a host name', () => {
      expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_SERVERNAME: 'kafka:9093' })).toEqual([
        'KAFKA_SSL_SERVERNAME: expected a host name, got "kafka:9093"',
      ]);
    });
  });

  it('reports missing credentials together with other bad settings', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_USERNAME: 'u', KAFKA_SSL: 'maybe' })).toEqual([
      'KAFKA_SSL: expected one of true, false, 1, 0, yes, no, got "maybe"',
      'KAFKA_PASSWORD: required when KAFKA_USERNAME is set',
    ]);
  });

  it('ignores credentials when no SASL mechanism is set', () => {
    expect(load({ KAFKA_USERNAME: 'u' }).sasl).toBeUndefined();
  });

  it('rejects a bad app name at definition time', () => {
    expect(() => kafkaSettings('Orders Service')).toThrow(TypeError);
  });
});
