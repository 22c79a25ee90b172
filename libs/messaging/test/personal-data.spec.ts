import { EmailContract, type Email, type TopicDefinition } from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '../src/testing';
import {
  KafkaRuntime,
  MessagingHeaders,
  PermanentError,
  handlerFor,
  type LogFields,
  type MessagingLogger,
} from '../src';
import { testEmail } from './fixtures/email-messages';

const ADDRESS = 'ola.nordmann@example.com';
const IDENTITY_NUMBER = '01017012345';

/** Every line the runtime logs, as text, to search for what must not be there. */
function capturingLogger(lines: string[]): MessagingLogger {
  const write = (level: string) => (message: string, fields?: LogFields) =>
    lines.push(JSON.stringify({ level, message, ...fields }));
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

describe('personal data in error text (real broker)', () => {
  let env: KafkaTestEnvironment;
  let runtime: KafkaRuntime;
  const logLines: string[] = [];

  beforeEach(() => {
    env = new KafkaTestEnvironment('pii');
    runtime = new KafkaRuntime(env.connection, capturingLogger(logLines));
  });

  afterEach(async () => {
    await runtime.shutdown();
    await env.cleanup();
  });

  it('keeps addresses and identity numbers out of dead-letter headers and logs', async () => {
    const topic: TopicDefinition<Email> = env.defineTopic(
      'emails',
      EmailContract,
      (email) => email.notificationId,
    );
    await env.createTopics(topic, 1);
    const deadLetters = await env.read([topic.deadLetterTopic]);
    const refused = testEmail({ toAddress: ADDRESS });
    await env.produceRaw(topic.name, [
      // Not JSON: V8's parse error quotes the start of the input.
      { key: 'not-json', value: `${ADDRESS} ${IDENTITY_NUMBER}` },
      // Valid JSON, wrong shape: the contract's issue names the value it got.
      { key: 'wrong-shape', value: JSON.stringify({ ...testEmail(), contentType: ADDRESS }) },
      // Valid, but the handler's (a provider's) error echoes the recipient and an identity number.
      { key: 'refused', value: EmailContract.serialize(refused) },
    ]);
    const consumer = runtime.createConsumer(
      {
        groupId: env.uniqueName('group'),
        sessionTimeoutMs: 10_000,
        perPartitionConcurrency: 1,
        retryPolicy: { maxAttempts: 1, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 },
      },
      [
        handlerFor({
          topic,
          handle: async (email: Email) => {
            throw new PermanentError(`Recipient ${email.toAddress} (${IDENTITY_NUMBER}) was refused`);
          },
        }),
      ],
    );
    await consumer.start();

    await expectEventually(
      () =>
        expect(deadLetters.map((record) => record.key).sort()).toEqual([
          'not-json',
          'refused',
          'wrong-shape',
        ]),
      {
        timeoutMs: 30_000,
      },
    );
    const headerText = JSON.stringify(deadLetters.map((record) => record.headers));
    // The error is still there, with placeholders where the personal data was.
    expect(deadLetters.map((record) => record.headers[MessagingHeaders.errorMessage])).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/not valid JSON/),
        expect.stringContaining('contentType: expected one of Plain | Html, got "<email>"'),
        expect.stringContaining('Recipient <email> (<identity-number>) was refused'),
      ]),
    );
    await expectEventually(() => expect(logLines.join('\n')).toContain('<identity-number>'));
    const logText = logLines.join('\n');
    for (const text of [headerText, logText]) {
      expect(text).not.toContain(ADDRESS);
      expect(text).not.toContain(IDENTITY_NUMBER);
      // Nor a fragment of either (V8 quotes the first ten characters of bad JSON).
      expect(text).not.toContain(ADDRESS.slice(0, 10));
    }
  });
});
