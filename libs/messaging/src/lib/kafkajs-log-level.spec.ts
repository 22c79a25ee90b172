import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { explainKafkaError, KafkaUnreachableError, type KafkaPrincipal } from './connection';
import { type KafkajsLogEntry, kafkajsLogLevel } from './kafkajs-log-level';

// The entries below are the ones kafkajs 2.2.4 wrote during a first start on a fresh broker and with no broker at
// all (apps/pipeline-e2e/test/clean-start.spec.ts, and an app started against a closed port).
const entry = (
  level: KafkajsLogEntry['level'],
  namespace: string,
  message: string,
  fields: Record<string, unknown> = {},
): KafkajsLogEntry => ({ level, namespace, message, fields });

describe('kafkajsLogLevel', () => {
  it.each([
    ['Response Metadata(key: 3, version: 6)', 'This server does not host this topic-partition'],
    ['Response ListOffsets(key: 2, version: 3)', 'This server is not the leader for that topic-partition'],
    [
      'Response InitProducerId(key: 22, version: 1)',
      "The coordinator is loading and hence can't process requests for this group",
    ],
    // Two apps creating the same topic: kafkajs takes TOPIC_ALREADY_EXISTS as success after logging it.
    ['Response CreateTopics(key: 19, version: 3)', 'Topic creation errors'],
  ])(
    'a broker answer to one request (%s: %s) is debug: the caller retries, accepts or reports it',
    (message, error) => {
      expect(kafkajsLogLevel(entry('error', 'Connection', message, { error, correlationId: 5 }))).toBe(
        'debug',
      );
    },
  );

  it("a retried attempt of kafkajs' retrier is a warning, not an error", () => {
    expect(
      kafkajsLogLevel(
        entry(
          'error',
          'BrokerPool',
          'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:1',
          { retryCount: 0, retryTime: 336 },
        ),
      ),
    ).toBe('warn');
    expect(
      kafkajsLogLevel(
        entry(
          'error',
          'Producer',
          'Failed to send messages: This server is not the leader for that topic-partition',
          {
            retryCount: 1,
            retryTime: 600,
          },
        ),
      ),
    ).toBe('warn');
    expect(
      kafkajsLogLevel(entry('error', 'Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:1')),
    ).toBe('warn');
    expect(kafkajsLogLevel(entry('error', 'Connection', 'Connection timeout'))).toBe('warn');
  });

  it('a consumer crash stays an error although it carries a retryCount: it is the end of the retries', () => {
    expect(
      kafkajsLogLevel(
        entry('error', 'Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded: Connection error', {
          groupId: 'g',
          retryCount: 8,
        }),
      ),
    ).toBe('error');
    expect(kafkajsLogLevel(entry('error', 'Producer', 'The producer is fenced', { retryCount: 0 }))).toBe(
      'error',
    );
    expect(
      kafkajsLogLevel(entry('error', 'ConsumerGroup', 'Offset out of range, resetting to default offset')),
    ).toBe('error');
  });

  it('keeps warnings and makes routine INFO and DEBUG entries debug', () => {
    expect(kafkajsLogLevel(entry('warn', 'Producer', 'Limiting retries for the idempotent producer'))).toBe(
      'warn',
    );
    expect(kafkajsLogLevel(entry('info', 'ConsumerGroup', 'Pausing fetching from 1 topics'))).toBe('debug');
    expect(kafkajsLogLevel(entry('debug', 'Connection', 'Request Metadata'))).toBe('debug');
  });
});

describe('explainKafkaError on a connect that reaches no broker', () => {
  const principal: KafkaPrincipal = { role: 'admin', brokers: ['127.0.0.1:1', '127.0.0.1:2'] };
  // What kafkajs' retrier rejects with once its retries are used up (kafkajs/src/retry/index.js).
  const refused = (): Error => {
    const connectionError = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1', {
      broker: '127.0.0.1:1',
    });
    // kafkajs passes `{ cause }` as a second argument its type declarations do not list.
    return Object.defineProperty(new KafkaJSNonRetriableError(connectionError), 'cause', {
      value: connectionError,
    });
  };

  it('names the brokers, the cause and what to check, and keeps kafkajs error as its cause', () => {
    const explained = explainKafkaError(refused(), principal, 'connect');
    expect(explained).toBeInstanceOf(KafkaUnreachableError);
    expect((explained as Error).message).toBe(
      'Kafka unreachable: the admin client could not connect to 127.0.0.1:1,127.0.0.1:2 ' +
        '(Connection error: connect ECONNREFUSED 127.0.0.1:1); check that the brokers run, that KAFKA_BROKERS ' +
        'names them and, with TLS, the KAFKA_SSL_* settings (locally: `npm run infra:status`, `npm run infra:up`)',
    );
    expect((explained as Error).cause).toBeInstanceOf(KafkaJSNonRetriableError);
  });

  it('leaves a send that lost its broker, and a connect refused for another reason, to their callers', () => {
    const lost = refused();
    expect(explainKafkaError(lost, principal, 'send')).toBe(lost);
    const unsupported = new KafkaJSProtocolError('The version of API is not supported');
    expect(explainKafkaError(unsupported, principal, 'connect')).toBe(unsupported);
  });
});
