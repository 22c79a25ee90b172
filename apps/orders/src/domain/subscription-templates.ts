// What a subscription's custom payload and topic may contain (README "Subscriptions"). Pure checks shared by the API,
// which refuses a bad template at creation, and the delivery step, which renders templates the API accepted.

/** The macros a custom payload or topic may use, written `${name}`. */
export const SUBSCRIPTION_MACROS = [
  'orderId',
  'notificationId',
  'sendersReference',
  'status',
  'recipient',
  'lastUpdate',
] as const;
export type SubscriptionMacro = (typeof SUBSCRIPTION_MACROS)[number];

/**
 * The macros a topic template may use: their values (UUIDs, status names) consist of Kafka topic characters only,
 * so a template of topic characters always renders a valid topic name. A senders' reference or an address would not.
 */
export const TOPIC_SAFE_MACROS = [
  'orderId',
  'notificationId',
  'status',
] as const satisfies readonly SubscriptionMacro[];

/**
 * `${name}`: the name is everything up to the first `}`. Global and shared: use it with `matchAll` or `replace`, which
 * do not depend on its `lastIndex`, never with `test` or `exec`.
 */
export const MACRO_PATTERN = /\$\{([^}]*)\}/g;

// Kafka's own rule for topic names (org.apache.kafka.common.internals.Topic): at most 249 of these characters.
export const KAFKA_TOPIC_MAX_LENGTH = 249;
const KAFKA_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/**
 * The longest value a topic-safe macro renders to: a UUID has 36 characters, and no status name has more (the
 * longest, 'Failed_RecipientNotIdentified', has 29), so 36 bounds `status` too.
 */
const TOPIC_MACRO_MAX_LENGTH: Readonly<Record<(typeof TOPIC_SAFE_MACROS)[number], number>> = {
  orderId: 36,
  notificationId: 36,
  status: 36,
};

/**
 * A custom payload's size limit, measured as its JSON text in UTF-8 bytes. Each event carries its own rendered
 * copy; 64 KiB keeps a batch of 500 HTTP events near the 32 MiB a receiver is commonly willing to read.
 */
export const CUSTOM_PAYLOAD_MAX_BYTES = 64 * 1024;

/** The macro names a template uses, in order of appearance (repeats included). */
export function templateMacros(text: string): string[] {
  return [...text.matchAll(MACRO_PATTERN)].map((match) => match[1] ?? '');
}

function isTopicSafeMacro(name: string): name is (typeof TOPIC_SAFE_MACROS)[number] {
  return (TOPIC_SAFE_MACROS as readonly string[]).includes(name);
}

/** A valid Kafka topic name (the characters, the length, and not `.` or `..`, which Kafka refuses). */
export function isKafkaTopicName(name: string): boolean {
  return (
    name.length <= KAFKA_TOPIC_MAX_LENGTH && KAFKA_TOPIC_NAME.test(name) && name !== '.' && name !== '..'
  );
}

const list = (names: readonly string[]) => names.map((name) => `\${${name}}`).join(', ');

function unknownMacroProblem(names: readonly string[], allowed: readonly string[]): string | undefined {
  const unknown = [...new Set(names.filter((name) => !allowed.includes(name)))];
  if (unknown.length === 0) return undefined;
  return `uses unknown macro(s) ${list(unknown)}; allowed: ${list(allowed)}`;
}

/** A plain topic name's problem, or undefined when Kafka accepts it. */
export function topicNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (isKafkaTopicName(name)) return undefined;
  return `must be a Kafka topic name: at most ${KAFKA_TOPIC_MAX_LENGTH} of the characters a-z A-Z 0-9 . _ -`;
}

/**
 * A topic template's problem, or undefined when every rendering is a valid topic name: only topic-safe macros,
 * topic characters around them, and at most 249 characters once the macros hold their longest values.
 */
export function topicTemplateProblem(template: string): string | undefined {
  const macros = templateMacros(template);
  const unknown = unknownMacroProblem(macros, TOPIC_SAFE_MACROS);
  if (unknown !== undefined) return unknown;
  const literal = template.replace(MACRO_PATTERN, '');
  if (macros.length === 0) return topicNameProblem(template);
  if (literal !== '' && !KAFKA_TOPIC_NAME.test(literal)) {
    return 'may hold only the characters a-z A-Z 0-9 . _ - besides its macros';
  }
  const longest =
    literal.length +
    macros.reduce((sum, name) => sum + (isTopicSafeMacro(name) ? TOPIC_MACRO_MAX_LENGTH[name] : 0), 0);
  if (longest > KAFKA_TOPIC_MAX_LENGTH) {
    return `may render to ${longest} characters; a Kafka topic name has at most ${KAFKA_TOPIC_MAX_LENGTH}`;
  }
  return undefined;
}

/**
 * How deep a JSON payload template may nest. Far beyond any real payload; it keeps every walk over a template (this
 * check, JSON.stringify, the renderer) from running out of stack.
 */
export const CUSTOM_PAYLOAD_MAX_DEPTH = 32;

/**
 * A custom payload template's problem, or undefined: a string template, or any JSON value whose string values are
 * templates (object keys are never rendered), using the subscription macros only, nesting at most
 * CUSTOM_PAYLOAD_MAX_DEPTH levels and at most CUSTOM_PAYLOAD_MAX_BYTES as JSON text.
 */
export function payloadTemplateProblem(payload: unknown): string | undefined {
  const names: string[] = [];
  // Iterative: a request body nests as deep as its size allows.
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value: payload, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (typeof value === 'string') {
      names.push(...templateMacros(value));
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= CUSTOM_PAYLOAD_MAX_DEPTH)
      return `must not nest deeper than ${CUSTOM_PAYLOAD_MAX_DEPTH} levels`;
    for (const child of Object.values(value)) pending.push({ value: child, depth: depth + 1 });
  }
  const size = Buffer.byteLength(JSON.stringify(payload) ?? '', 'utf8');
  if (size > CUSTOM_PAYLOAD_MAX_BYTES) {
    return `must be at most ${CUSTOM_PAYLOAD_MAX_BYTES} bytes as JSON (it is ${size})`;
  }
  return unknownMacroProblem(names, SUBSCRIPTION_MACROS);
}
