import { randomBytes } from 'node:crypto';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { type TopicCatalog } from '@notifications/contracts';
import { startKafkaTransport } from '@notifications/messaging/nest';
import { listenWithManagement } from '@notifications/observability';
import { KafkaTestEnvironment } from '@notifications/messaging/testing';
import { createOrdersApp } from '../../src/app/orders-app';
import { intakeGroupOf } from '../../src/app/orders.module';
import { loadOrdersConfig, type OrdersConfig } from '../../src/config/orders.config';
import { type ContactPointService } from '../../src/domain/contact-point.service';
import { ordersEntities } from '../../src/store/entities';
import { ordersMigrations } from '../../src/store/migrations';
import { TestAuth } from './test-auth';
import { createTestTopics } from './test-topics';

/** Settings that make the app quick to observe in tests (overridable per suite). */
export const FAST_TEST_SETTINGS: Readonly<Record<string, string>> = {
  APP_ENV: 'test',
  LOG_LEVEL: 'warn',
  PORT: '0',
  HOST: '127.0.0.1',
  KAFKA_TOPIC_PARTITIONS: '2',
  KAFKA_SESSION_TIMEOUT_MS: '10s',
  KAFKA_SHUTDOWN_TIMEOUT_MS: '5s',
  DATABASE_POOL_SIZE: '6',
  // At most half the pool (checked at start-up).
  SUBSCRIPTIONS_DELIVERY_CONCURRENCY: '3',
  ORDERS_PASTDUE_INTERVAL: '100ms',
  ORDERS_EMAIL_PUBLISH_INTERVAL: '100ms',
  ORDERS_OUTBOX_RELAY_INTERVAL: '50ms',
  ORDERS_SWEEP_INTERVAL: '500ms',
  ORDERS_RETRY_MAX_ATTEMPTS: '3',
  ORDERS_RETRY_INITIAL_DELAY: '200ms',
  ORDERS_TRANSIENT_RESEND_DELAY: '0ms',
};

/** A suite's own database, topics, signing key and configuration (no app yet). */
export interface OrdersTestResources {
  readonly label: string;
  readonly db: TestDatabase;
  readonly kafka: KafkaTestEnvironment;
  /** The real catalog under the suite's KAFKA_TOPIC_SUFFIX (in `env`). */
  readonly topics: TopicCatalog;
  readonly auth: TestAuth;
  readonly consumerGroupId: string;
  /** The group the intake (orders.pastdue) reads in: `intakeGroupOf(consumerGroupId)`. */
  readonly intakeGroupId: string;
  /** The environment a process of the app under test gets. */
  readonly env: Readonly<Record<string, string>>;
  readonly config: OrdersConfig;
  cleanup(): Promise<void>;
}

export async function createTestResources(
  label: string,
  settings: Readonly<Record<string, string>> = {},
  partitions = 2,
  /** A PostgreSQL of the suite's own (an isolated server it crashes or stops); default the shared one. */
  databaseServerUrl?: string,
): Promise<OrdersTestResources> {
  const unique = `${label}-${randomBytes(3).toString('hex')}`;
  const auth = new TestAuth();
  const [db, kafka] = await Promise.all([
    createTestDatabase({
      prefix: `orders_${label}`,
      migrations: ordersMigrations,
      entities: ordersEntities,
      ...(databaseServerUrl === undefined ? {} : { serverUrl: databaseServerUrl }),
    }),
    Promise.resolve(new KafkaTestEnvironment(`orders-${unique}`)),
  ]);
  const suffix = `t-orders-${unique}`;
  const topics = await createTestTopics(kafka, suffix, partitions);
  const env: Record<string, string> = {
    ...FAST_TEST_SETTINGS,
    DATABASE_URL: db.url,
    KAFKA_BROKERS: kafka.connection.brokers.join(','),
    KAFKA_CLIENT_ID: `test-orders-${unique}`,
    KAFKA_TOPIC_PARTITIONS: String(partitions),
    KAFKA_TOPIC_SUFFIX: suffix,
    AUTH_JWT_PUBLIC_KEY: auth.publicKeyPem,
    // The same test key signs operator tokens (with the operator scope): TestAuth.operatorToken().
    OPERATOR_AUTH_JWT_PUBLIC_KEY: auth.publicKeyPem,
    ...settings,
  };
  const consumerGroupId = kafka.uniqueName('orders-group');
  return {
    label,
    db,
    kafka,
    topics,
    auth,
    consumerGroupId,
    intakeGroupId: intakeGroupOf(consumerGroupId),
    env,
    config: loadOrdersConfig(env),
    async cleanup() {
      await Promise.allSettled([db.drop(), kafka.cleanup()]);
    },
  };
}

export interface OrdersTestApp {
  readonly app: NestExpressApplication;
  readonly baseUrl: string;
  /** The management listener (operator endpoints, /metrics, /status). */
  readonly managementUrl: string;
  close(): Promise<void>;
}

/** The real app (same factory as main.ts) on the suite's database and topics, listening on free ports. */
export async function startOrdersApp(
  resources: OrdersTestResources,
  options: { contactPoints?: ContactPointService; config?: OrdersConfig } = {},
): Promise<OrdersTestApp> {
  const app = await createOrdersApp({
    config: options.config ?? resources.config,
    consumerGroupId: resources.consumerGroupId,
    logger: ['error'],
    ...(options.contactPoints === undefined ? {} : { contactPoints: options.contactPoints }),
  });
  await startKafkaTransport(app);
  // The public listener on a free port; the management one where the config says (PORT=0: a free port too).
  const { url, managementUrl } = await listenWithManagement(app, { port: 0, host: '127.0.0.1' });
  if (managementUrl === undefined) throw new Error('The orders app has no management listener');
  let closed: Promise<void> | undefined;
  return { app, baseUrl: url, managementUrl, close: () => (closed ??= app.close()) };
}

export interface HttpResult<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly contentType: string;
}

/** A small HTTP client for the API under test. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private token?: string,
  ) {}

  as(token: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: { json?: unknown; body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token !== undefined) headers['authorization'] ??= `Bearer ${this.token}`;
    let body: string | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      headers: response.headers,
      contentType,
      body: (text !== '' && /json/.test(contentType) ? JSON.parse(text) : text) as T,
    };
  }

  post<T = unknown>(path: string, json?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>> {
    return this.request<T>('POST', path, {
      ...(json === undefined ? {} : { json }),
      ...(headers ? { headers } : {}),
    });
  }

  get<T = unknown>(path: string): Promise<HttpResult<T>> {
    return this.request<T>('GET', path);
  }

  put<T = unknown>(path: string): Promise<HttpResult<T>> {
    return this.request<T>('PUT', path);
  }
}

export const API = '/notifications/api/v1';

/** A minimal valid email order body. */
export function emailOrder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subject: 'Your tax return',
    body: 'Hello $recipientName$, your tax return is ready.',
    recipients: [{ emailAddress: 'ola.nordmann@example.com' }],
    ...overrides,
  };
}
