/**
 * Reading Azure Event Grid deliveries: an array of events in the Event Grid schema (`eventType`, `data`, …) or in
 * the CloudEvents 1.0 schema (`type`, `data`; a single object in structured mode). Only what this app needs is
 * checked; unknown properties are ignored.
 */
export const EventTypes = {
  subscriptionValidation: 'Microsoft.EventGrid.SubscriptionValidationEvent',
  emailDeliveryReport: 'Microsoft.Communication.EmailDeliveryReportReceived',
} as const;

export type EventGridDelivery =
  | { readonly kind: 'validation'; readonly validationCode: string }
  | { readonly kind: 'events'; readonly events: readonly EventGridEvent[] };

/**
 * `source` is the resource that published the event: `topic` in the Event Grid schema, `source` in CloudEvents
 * (for ACS events, the Communication Services resource id). Absent when the event names none.
 */
export type EventGridEvent =
  | {
      readonly kind: 'delivery-report';
      readonly id?: string;
      readonly source?: string;
      readonly messageId: string;
      readonly status: string;
      readonly recipient?: string;
      readonly statusMessage?: string;
    }
  | { readonly kind: 'other'; readonly eventType: string; readonly source?: string };

/** A body this endpoint cannot accept; `problems` name each bad part (`[2].data.messageId: …`). */
export class MalformedDeliveryError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Malformed Event Grid delivery: ${problems.join('; ')}`);
  }
}

/** A body with more events than this endpoint takes in one request (answered 413). */
export class TooManyEventsError extends Error {
  constructor(
    readonly count: number,
    readonly max: number,
  ) {
    super(`${count} events in one delivery; at most ${max} are accepted per request`);
  }
}

const MAX_PROBLEMS = 20;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** @throws MalformedDeliveryError, or TooManyEventsError when the array holds more than `maxEvents` items. */
export function parseEventGridDelivery(
  body: string,
  maxEvents: number = Number.POSITIVE_INFINITY,
): EventGridDelivery {
  if (body.trim() === '') {
    throw new MalformedDeliveryError(['empty body: expected a JSON array of Event Grid events']);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.startsWith('\uFEFF') ? body.slice(1) : body);
  } catch (error) {
    throw new MalformedDeliveryError([`not valid JSON: ${(error as Error).message}`]);
  }
  const items: unknown[] | undefined = Array.isArray(parsed)
    ? parsed
    : isObject(parsed)
      ? [parsed]
      : undefined;
  if (items === undefined) {
    throw new MalformedDeliveryError([`expected a JSON array of Event Grid events, got ${typeof parsed}`]);
  }
  if (items.length === 0) return { kind: 'events', events: [] };
  if (items.length > maxEvents) throw new TooManyEventsError(items.length, maxEvents);

  const problems: string[] = [];
  const events: EventGridEvent[] = [];
  let validationCode: string | undefined;
  items.forEach((item, index) => {
    if (problems.length >= MAX_PROBLEMS) return;
    const at = `[${index}]`;
    if (!isObject(item)) {
      problems.push(`${at}: expected an event object`);
      return;
    }
    const eventType = item['eventType'] ?? item['type'];
    if (!nonEmptyString(eventType)) {
      problems.push(`${at}.eventType: required (a non-empty string)`);
      return;
    }
    const data = item['data'];
    const sourceValue = item['topic'] ?? item['source'];
    const source = nonEmptyString(sourceValue) ? { source: sourceValue.trim() } : {};
    if (same(eventType, EventTypes.subscriptionValidation)) {
      if (!isObject(data) || !nonEmptyString(data['validationCode'])) {
        problems.push(`${at}.data.validationCode: required (a non-empty string)`);
        return;
      }
      validationCode ??= data['validationCode'];
      return;
    }
    if (!same(eventType, EventTypes.emailDeliveryReport)) {
      events.push({ kind: 'other', eventType, ...source });
      return;
    }
    if (!isObject(data)) {
      problems.push(`${at}.data: required (an object)`);
      return;
    }
    const before = problems.length;
    if (!nonEmptyString(data['messageId']))
      problems.push(`${at}.data.messageId: required (a non-empty string)`);
    if (!nonEmptyString(data['status'])) problems.push(`${at}.data.status: required (a non-empty string)`);
    if (problems.length > before) return;
    const details = data['deliveryStatusDetails'];
    const statusMessage = isObject(details) ? details['statusMessage'] : undefined;
    events.push({
      kind: 'delivery-report',
      ...(typeof item['id'] === 'string' ? { id: item['id'] } : {}),
      ...source,
      messageId: (data['messageId'] as string).trim(),
      status: (data['status'] as string).trim(),
      ...(typeof data['recipient'] === 'string' ? { recipient: data['recipient'] } : {}),
      ...(typeof statusMessage === 'string' ? { statusMessage } : {}),
    });
  });
  if (problems.length > 0) throw new MalformedDeliveryError(problems);
  // Event Grid sends the subscription handshake on its own, before any event.
  if (validationCode !== undefined) return { kind: 'validation', validationCode };
  return { kind: 'events', events };
}
