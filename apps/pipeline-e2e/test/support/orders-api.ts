export interface EmailOrderRequest {
  readonly recipients: readonly { readonly emailAddress: string }[];
  readonly subject?: string;
  readonly body?: string;
  readonly requestedSendTime?: string;
  readonly sendersReference?: string;
  /** Asked at send time; the order goes on when it answers `{"sendCondition": true}`. */
  readonly conditionEndpoint?: string;
}

export interface NotificationStatus {
  readonly id: string;
  readonly succeeded: boolean;
  readonly recipient: { readonly emailAddress?: string };
  readonly sendStatus: { readonly status: string; readonly lastUpdate?: string };
}

/** The fields of a subscription the tests read (apps/orders README "Subscriptions"). */
export interface SubscriptionView {
  readonly id: string;
  readonly status: 'active' | 'failed' | 'expired';
  readonly timesSent: number;
  readonly failsCounter: number;
  readonly lastFailureReason: string | null;
  readonly pendingEvents: number;
}

export interface CreatedSubscription extends SubscriptionView {
  readonly secret: string;
}

/** Results during which a notification is still on its way (orders' PENDING_RESULTS); all others are final. */
export const PENDING_RESULTS: readonly string[] = ['New', 'Sending', 'Succeeded'];

export const isFinal = (result: string): boolean => !PENDING_RESULTS.includes(result);

/** The orders REST API as a service owner uses it. */
export class OrdersApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: () => Promise<string>,
  ) {}

  /** `POST /orders/email` → the order id (202). */
  async postEmailOrder(order: EmailOrderRequest): Promise<string> {
    const response = await this.request('POST', '/orders/email', {
      subject: 'Pipeline test',
      body: 'Hello from the end-to-end tests.',
      ...order,
    });
    if (response.status !== 202) {
      throw new Error(`POST /orders/email → ${response.status}: ${await response.text()}`);
    }
    return ((await response.json()) as { orderId: string }).orderId;
  }

  /** The order's processing status (`Registered`, `Processing`, `Completed`, …). */
  async processingStatus(orderId: string): Promise<string> {
    const body = (await this.get(`/orders/${orderId}/status`)) as { processingStatus: { status: string } };
    return body.processingStatus.status;
  }

  async notifications(orderId: string): Promise<NotificationStatus[]> {
    const body = (await this.get(`/orders/${orderId}/notifications/email`)) as {
      notifications: NotificationStatus[];
    };
    return body.notifications;
  }

  /** `POST /subscriptions` → the created subscription, its signing `secret` included (shown only here). */
  async createSubscription(subscription: Record<string, unknown>): Promise<CreatedSubscription> {
    const response = await this.request('POST', '/subscriptions', subscription);
    if (response.status !== 201) {
      throw new Error(`POST /subscriptions → ${response.status}: ${await response.text()}`);
    }
    return (await response.json()) as CreatedSubscription;
  }

  async subscription(id: string): Promise<SubscriptionView> {
    return (await this.get(`/subscriptions/${id}`)) as SubscriptionView;
  }

  async deleteSubscription(id: string): Promise<void> {
    const response = await this.request('DELETE', `/subscriptions/${id}`);
    if (response.status !== 204) {
      throw new Error(`DELETE /subscriptions/${id} → ${response.status}: ${await response.text()}`);
    }
  }

  private async get(path: string): Promise<unknown> {
    const response = await this.request('GET', path);
    if (!response.ok) throw new Error(`GET ${path} → ${response.status}: ${await response.text()}`);
    return response.json();
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.baseUrl}/notifications/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.token()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }
}
