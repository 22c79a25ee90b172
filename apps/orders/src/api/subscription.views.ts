import {
  formatTimestamp,
  type CreatedSubscriptionResponse,
  type SubscriptionResponse,
} from '@notifications/contracts';
import { type SubscriptionDestination, type SubscriptionRecord } from '../domain/subscription.model';
import { API_BASE_PATH } from './order.views';

// Mapping from a stored subscription to the API's JSON: every field shown, null when it has no value; the secrets
// (signing secret, SASL password) never.

export function subscriptionUrl(baseUrl: string, id: string): string {
  return `${baseUrl}${API_BASE_PATH}/subscriptions/${id}`;
}

const timestampOrNull = (time: Date | undefined): string | null =>
  time === undefined ? null : formatTimestamp(time);

function destinationView(destination: SubscriptionDestination): SubscriptionResponse['notification'] {
  if ('http' in destination) {
    return { http: { url: destination.http.url, maxEventsPerRequest: destination.http.maxEventsPerRequest } };
  }
  const { url, topic, sasl, tls } = destination.kafka;
  return {
    kafka: {
      url,
      topic,
      sasl: sasl === undefined ? null : { mechanism: sasl.mechanism, username: sasl.username },
      tls:
        tls === undefined ? null : { ca: tls.ca ?? null, rejectUnauthorized: tls.rejectUnauthorized ?? true },
    },
  };
}

export function subscriptionView(subscription: SubscriptionRecord): SubscriptionResponse {
  const { custom } = subscription;
  return {
    id: subscription.id,
    description: subscription.description ?? null,
    filter: {
      sendersReference: subscription.filter.sendersReference ?? null,
      resourceId: subscription.filter.resourceId ?? null,
    },
    events: [...subscription.events],
    notification: destinationView(subscription.destination),
    custom: custom === undefined ? null : { payload: custom.payload ?? null, topic: custom.topic ?? null },
    expires: timestampOrNull(subscription.expires),
    created: formatTimestamp(subscription.created),
    status: subscription.status,
    timesSent: subscription.timesSent,
    lastNotification: timestampOrNull(subscription.lastNotification),
    lastSuccess: timestampOrNull(subscription.lastSuccess),
    lastFailure: timestampOrNull(subscription.lastFailure),
    lastFailureReason: subscription.lastFailureReason ?? null,
    failsCounter: subscription.failsCounter,
    pendingEvents: subscription.pendingEvents,
  };
}

export function createdSubscriptionView(
  subscription: SubscriptionRecord,
  secret: string,
): CreatedSubscriptionResponse {
  return { ...subscriptionView(subscription), secret };
}
