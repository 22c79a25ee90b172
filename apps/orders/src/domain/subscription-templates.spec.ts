import {
  CUSTOM_PAYLOAD_MAX_BYTES,
  CUSTOM_PAYLOAD_MAX_DEPTH,
  isKafkaTopicName,
  KAFKA_TOPIC_MAX_LENGTH,
  payloadTemplateProblem,
  SUBSCRIPTION_MACROS,
  templateMacros,
  TOPIC_SAFE_MACROS,
  topicNameProblem,
  topicTemplateProblem,
} from './subscription-templates';

describe(templateMacros.name, () => {
  it('lists the macro names in order, repeats included', () => {
    expect(templateMacros('${orderId}/${status}-${orderId}')).toEqual(['orderId', 'status', 'orderId']);
  });

  it('finds none in text without ${…} (a lone $ or an unclosed macro is text)', () => {
    expect(templateMacros('costs $5 {x} ${orderId')).toEqual([]);
  });

  it('reports an empty name as a macro named ""', () => {
    expect(templateMacros('a${}b')).toEqual(['']);
  });
});

describe(isKafkaTopicName.name, () => {
  it.each(['notify-events', 'a.b_c-D9', 'x'.repeat(KAFKA_TOPIC_MAX_LENGTH)])('accepts %s', (name) => {
    expect(isKafkaTopicName(name)).toBe(true);
  });

  it.each(['', '.', '..', 'with space', 'slash/topic', 'ä', 'x'.repeat(KAFKA_TOPIC_MAX_LENGTH + 1)])(
    'refuses %j',
    (name) => {
      expect(isKafkaTopicName(name)).toBe(false);
    },
  );
});

describe(topicNameProblem.name, () => {
  it('accepts a plain topic name and explains a bad one', () => {
    expect(topicNameProblem('events')).toBeUndefined();
    expect(topicNameProblem('')).toBe('must not be empty');
    expect(topicNameProblem('${orderId}')).toMatch(/must be a Kafka topic name/);
  });
});

describe(topicTemplateProblem.name, () => {
  it.each(['events', 'events.${orderId}', '${status}_${notificationId}', 'o-${orderId}-${status}'])(
    'accepts %s',
    (template) => {
      expect(topicTemplateProblem(template)).toBeUndefined();
    },
  );

  it('refuses macros whose values are not topic-safe, naming them and the allowed ones', () => {
    const problem = topicTemplateProblem('events.${sendersReference}.${recipient}');
    expect(problem).toContain('${sendersReference}, ${recipient}');
    expect(problem).toContain(TOPIC_SAFE_MACROS.map((name) => `\${${name}}`).join(', '));
  });

  it('refuses unknown macros', () => {
    expect(topicTemplateProblem('events.${order}')).toMatch(/unknown macro\(s\) \$\{order\}/);
  });

  it('refuses characters Kafka does not allow around the macros', () => {
    expect(topicTemplateProblem('events/${orderId}')).toMatch(/only the characters/);
  });

  it('refuses a template that can render longer than 249 characters', () => {
    const literal = 'x'.repeat(KAFKA_TOPIC_MAX_LENGTH - 36);
    expect(topicTemplateProblem(`${literal}\${orderId}`)).toBeUndefined();
    expect(topicTemplateProblem(`${literal}x\${orderId}`)).toMatch(/may render to 250 characters/);
  });
});

describe(payloadTemplateProblem.name, () => {
  it('accepts every subscription macro in a string template', () => {
    expect(
      payloadTemplateProblem(SUBSCRIPTION_MACROS.map((name) => `\${${name}}`).join(' ')),
    ).toBeUndefined();
  });

  it('accepts a JSON template with macros in nested string values, and values without any', () => {
    expect(
      payloadTemplateProblem({ order: '${orderId}', list: [{ s: '${status}' }, 1, true, null], n: 2 }),
    ).toBeUndefined();
    expect(payloadTemplateProblem(42)).toBeUndefined();
  });

  it('refuses an unknown macro anywhere in the template, listing the allowed ones', () => {
    const problem = payloadTemplateProblem({ a: [{ b: 'x ${orderID} y' }] });
    expect(problem).toMatch(/unknown macro\(s\) \$\{orderID\}/);
    expect(problem).toContain('${lastUpdate}');
  });

  it('does not treat object keys as templates', () => {
    expect(payloadTemplateProblem({ '${anything}': 'x' })).toBeUndefined();
  });

  it('refuses a payload larger than the limit as JSON text (UTF-8 bytes)', () => {
    expect(payloadTemplateProblem('x'.repeat(CUSTOM_PAYLOAD_MAX_BYTES - 2))).toBeUndefined();
    expect(payloadTemplateProblem('x'.repeat(CUSTOM_PAYLOAD_MAX_BYTES - 1))).toMatch(/at most 65536 bytes/);
    expect(payloadTemplateProblem('ø'.repeat(CUSTOM_PAYLOAD_MAX_BYTES / 2))).toMatch(/at most 65536 bytes/);
  });

  it('refuses a payload nesting deeper than the limit, however deep, without running out of stack', () => {
    const nested = (levels: number): unknown => {
      let value: unknown = '${orderId}';
      for (let level = 0; level < levels; level += 1) value = level % 2 === 0 ? [value] : { a: value };
      return value;
    };
    expect(payloadTemplateProblem(nested(CUSTOM_PAYLOAD_MAX_DEPTH))).toBeUndefined();
    expect(payloadTemplateProblem(nested(CUSTOM_PAYLOAD_MAX_DEPTH + 1))).toBe(
      `must not nest deeper than ${CUSTOM_PAYLOAD_MAX_DEPTH} levels`,
    );
    expect(payloadTemplateProblem(nested(100_000))).toMatch(/must not nest deeper/);
  });
});
