import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import {
  expectEventually,
  startIsolatedBroker,
  stopIsolatedBroker,
  userOf,
  type IsolatedBroker,
} from '@notifications/testing';
import { SignJWT } from 'jose';
import { freePort } from '@notifications/testing';
import { AppProcess, baseEnv, runAppScript, type AppName } from './support/app-process';

// The real apps (built dist) as processes against a broker of this suite's own (libs/dev-infra
// startIsolatedBroker) with the notification ACLs: admin may create topics under altinn.notifications. and
// altinn.platform., the producer may write them, the consumer may read them with groups under
// altinn.notifications. Each app gets the three principals' credentials and must use each for its own role.
// The apps connect as in production: SASL (SCRAM-SHA-512) over TLS, verifying the broker against the CA file and
// presenting a client certificate (the listener requires one), all from KAFKA_SSL_* files read at start-up.

const TLS = join(__dirname, 'fixtures', 'kafka-tls');

// The emulator's public development access key (apps/acs-emulator README); not a secret.
const EMULATOR_ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';
const NOTIFICATIONS_CREATE_SCOPE = 'altinn:serviceowner/notifications.create';
const API = '/notifications/api/v1';

type KafkaApp = Exclude<AppName, 'acs-emulator'>;
type Role = 'admin' | 'producer' | 'consumer';

describe('the apps under SASL principals and ACLs, over mutual TLS', () => {
  const suffix = `acl-${randomUUID().slice(0, 8)}`;
  const signingKey = generateKeyPairSync('ed25519');
  const processes: AppProcess[] = [];
  const ports = new Map<AppName, number>();
  let broker: IsolatedBroker | undefined;
  let db: TestDatabase | undefined;

  const url = (app: AppName) => `http://127.0.0.1:${ports.get(app) ?? 0}`;

  function kafkaEnv(wrongPassword?: Role): Record<string, string> {
    const started = broker as IsolatedBroker;
    const credentials = (role: Role, username: string) => ({
      [`KAFKA_${role.toUpperCase()}_USERNAME`]: username,
      [`KAFKA_${role.toUpperCase()}_PASSWORD`]:
        role === wrongPassword ? 'not-the-password' : userOf(started, username).password,
    });
    return {
      KAFKA_BROKERS: started.sslBrokers as string,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: join(TLS, 'ca.pem'),
      KAFKA_SSL_CERT_FILE: join(TLS, 'client.pem'),
      KAFKA_SSL_KEY_FILE: join(TLS, 'client-key.pem'),
      // The broker is reached by IP; its certificate also names localhost, which is what we verify here.
      KAFKA_SSL_SERVERNAME: 'localhost',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      ...credentials('admin', 'admin'),
      ...credentials('producer', 'notifications-producer'),
      ...credentials('consumer', 'notifications-consumer'),
      KAFKA_TOPIC_SUFFIX: suffix,
      KAFKA_TOPIC_PARTITIONS: '1',
      KAFKA_SHUTDOWN_TIMEOUT_MS: '5s',
    };
  }

  function envFor(app: AppName, port: number, wrongPassword?: Role): Record<string, string> {
    const acs = `endpoint=${url('acs-emulator')}/;accesskey=${EMULATOR_ACCESS_KEY}`;
    const common = {
      ...baseEnv(),
      APP_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      // A free management port (not PORT + 100, which nobody reserved for this run).
      MANAGEMENT_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    switch (app) {
      case 'acs-emulator':
        return common;
      case 'orders':
        return {
          ...common,
          ...kafkaEnv(wrongPassword),
          DATABASE_URL: (db as TestDatabase).url,
          AUTH_JWT_PUBLIC_KEY: signingKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          ORDERS_PASTDUE_INTERVAL: '200ms',
          ORDERS_EMAIL_PUBLISH_INTERVAL: '200ms',
          ORDERS_OUTBOX_RELAY_INTERVAL: '100ms',
        };
      case 'email-sender':
        return { ...common, ...kafkaEnv(wrongPassword), ACS_CONNECTION_STRING: acs };
      case 'status-poller':
        // No delivery-report webhook: the only way to a status is the poller consuming email.sending.accepted.
        return {
          ...common,
          ...kafkaEnv(wrongPassword),
          ACS_CONNECTION_STRING: acs,
          STATUS_CHECK_FIRST_DELAY_MS: '1s',
          STATUS_CHECK_MAX_INTERVAL_MS: '2s',
        };
    }
  }

  async function startApp(app: AppName, readyPath: string): Promise<AppProcess> {
    const port = await freePort();
    ports.set(app, port);
    const child = new AppProcess(app, envFor(app, port));
    processes.push(child);
    await child.waitUntilAnswering(`${url(app)}${readyPath}`);
    return child;
  }

  async function token(org: string): Promise<string> {
    return new SignJWT({ org, 'urn:altinn:org': org, scope: NOTIFICATIONS_CREATE_SCOPE })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setSubject(`kafka-security-e2e:${org}`)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(signingKey.privateKey);
  }

  async function ordersApi<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${url('orders')}${API}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token('ttd')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  beforeAll(async () => {
    [broker, db] = await Promise.all([
      startIsolatedBroker('sasl-apps', {
        keystore: join(TLS, 'broker-keystore.pem'),
        truststore: join(TLS, 'ca.pem'),
        clientAuth: 'required',
      }),
      createTestDatabase({ prefix: 'kafka_security' }),
    ]);
    await runAppScript('orders', 'migrate.js', envFor('orders', 0));
    await startApp('acs-emulator', '/admin/stats');
    // email-sender's and status-poller's readiness include a publish to their health topic with the producer
    // principal; orders' readiness is PostgreSQL only (its API works through a Kafka outage), but it listens only
    // after its producer connected and its consumer subscribed under the ACLs.
    await Promise.all([
      startApp('orders', '/health/ready'),
      startApp('email-sender', '/health/ready'),
      startApp('status-poller', '/health/ready'),
    ]);
  }, 300_000);

  afterAll(async () => {
    // Each step on its own, so that a failure anywhere still stops the broker.
    await Promise.allSettled(processes.map((child) => child.stop()));
    await db?.drop().catch(() => undefined);
    await stopIsolatedBroker(broker);
  }, 120_000);

  afterEach(() => {
    for (const child of processes) {
      if (!child.running) throw new Error(`${child.name} is no longer running:\n${child.output}`);
    }
  });

  it('carries an order through orders, email-sender and status-poller, each with its own principals', async () => {
    const { orderId } = await ordersApi<{ orderId: string }>('POST', '/orders/email', {
      subject: 'Kafka ACLs',
      body: 'Every hop of this email used its own principal.',
      recipients: [{ emailAddress: 'acl-test@example.com' }],
    });

    // orders (producer) → email.queue → email-sender (consumer) → ACS emulator; email-sender (producer) →
    // email.sending.accepted → status-poller (consumer) → polls ACS → status-poller (producer) →
    // email.status.updated → orders (consumer): `Succeeded` can only come from that last hop.
    await expectEventually(
      async () => {
        const { notifications } = await ordersApi<{
          notifications: { sendStatus: { status: string } }[];
        }>('GET', `/orders/${orderId}/notifications/email`);
        expect(notifications.map((notification) => notification.sendStatus.status)).toEqual(['Succeeded']);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const messages = await fetch(`${url('acs-emulator')}/admin/messages?recipient=acl-test@example.com`).then(
      (response) => response.json() as Promise<{ messages: unknown[] }>,
    );
    expect(messages.messages).toHaveLength(1);
  });

  it.each<[KafkaApp, Role, string]>([
    ['email-sender', 'consumer', 'notifications-consumer'],
    ['status-poller', 'producer', 'notifications-producer'],
    ['orders', 'admin', 'admin'],
  ])(
    '%s stops at start-up within seconds when its %s password is wrong, naming the user',
    async (app, role, username) => {
      const started = Date.now();
      const child = new AppProcess(app, envFor(app, await freePort(), role));

      const { code } = await child.exited;

      expect(code).toBe(1);
      expect(child.output).toContain(`Kafka authentication failed for user "${username}" (${role} role`);
      // The app's own start-up (Nest, database pool) included; kafkajs alone would retry for much longer.
      expect(Date.now() - started).toBeLessThan(30_000);
    },
  );
});
