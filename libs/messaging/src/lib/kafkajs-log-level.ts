/** The levels our runtime logs kafkajs' entries at. */
export type KafkajsLogLevel = 'debug' | 'warn' | 'error';

/** What the level of one kafkajs log entry depends on: its level, namespace, message and extra fields. */
export interface KafkajsLogEntry {
  /** kafkajs' own level, as a word. */
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  /** The kafkajs component that logged it: `Connection`, `BrokerPool`, `Producer`, `Consumer`, … */
  readonly namespace: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * The level a kafkajs log entry deserves in our logs. kafkajs logs at ERROR every failed attempt of work that it
 * (or our code) tries again, so a healthy first start on a fresh broker printed some 200 error lines while topics
 * were created (issue 15). The rule: an error line is a failure somebody has to look at; an attempt that will be
 * retried is not one. What fails for good still reaches an error line, from the code that gave up:
 *
 * - `Connection` "Response <Api>" entries are a broker's error answer to one request (UNKNOWN_TOPIC_OR_PARTITION,
 *   NOT_LEADER_OR_FOLLOWER, COORDINATOR_LOAD_IN_PROGRESS while a fresh broker creates topics and elects leaders,
 *   TOPIC_ALREADY_EXISTS when two apps create the same topic). The connection logs the answer before anybody has
 *   decided what it means and then throws it to the caller, which retries it (kafkajs' retrier, our topic
 *   provisioner), accepts it (an existing topic) or gives up and reports it: kafkajs' consumer "Crash" and
 *   producer lines, our "Topic provisioning failed", `KafkaAuthorizationError`, a failed start. → debug.
 * - One attempt of kafkajs' retrier: `BrokerPool` entries with a `retryCount` (a seed broker that refused the
 *   connection) and the `Producer`'s "Failed to send messages: …" (a send to a partition that moved, which kafkajs
 *   logs only on the branch that retries). When the retries are used up the operation fails and its caller reports
 *   that (a start that fails names the brokers: `KafkaUnreachableError`). Likewise `Connection` "Connection
 *   error"/"Connection timeout": kafkajs reconnects. A broker outage is worth seeing while it lasts, so → warn, not
 *   debug. (The consumer's "Crash" entry carries a `retryCount` too, but it is the end of the retries: it stays.)
 * - INFO and DEBUG entries (joining a group, pausing a partition: our runtime pauses partitions to schedule
 *   retries) → debug; every other WARN and ERROR entry keeps its level (a consumer crash and restart, an offset
 *   reset, a failed listener).
 */
export function kafkajsLogLevel({ level, namespace, message, fields }: KafkajsLogEntry): KafkajsLogLevel {
  if (level === 'info' || level === 'debug') return 'debug';
  if (namespace === 'Connection' && message.startsWith('Response ')) return 'debug';
  if (level === 'warn') return 'warn';
  if (namespace === 'BrokerPool' && typeof fields['retryCount'] === 'number') return 'warn';
  if (namespace === 'Producer' && message.startsWith('Failed to send messages: ')) return 'warn';
  if (namespace === 'Connection' && /^Connection (error|timeout)\b/.test(message)) return 'warn';
  return 'error';
}
