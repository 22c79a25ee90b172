import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DELIVERY_REPORT_KEY_HEADER } from '@notifications/config';
import { ProblemException } from '@notifications/observability';
import { STATUS_POLLER_CONFIG, type StatusPollerConfig } from '../config/status-poller.config';
import { DeliveryReportStats } from './delivery-report-stats';
import { parseEventGridDelivery } from './event-grid-events';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The webhook's key comes in the `X-Delivery-Report-Key` header: a static, secret custom delivery property of the
 * Event Grid subscription (https://learn.microsoft.com/azure/event-grid/delivery-properties), so it never appears
 * in a URL (access logs, proxies, the subscription's endpoint shown in the portal). The reference's `?accesskey=`
 * is accepted only with DELIVERY_REPORT_ALLOW_QUERY_KEY=true, for a subscription created before the header
 * existed: Event Grid does not retry a 401 (it drops or dead-letters the event), so switching it off under a live
 * subscription would lose reports. Compared in constant time; a missing or wrong key is a 401 problem.
 *
 * The validation handshakes (the SubscriptionValidation event, and the CloudEvents `OPTIONS` abuse protection) are
 * answered without a key: whether Event Grid adds delivery properties to them is not documented, and answering
 * reveals nothing but what the request carries.
 */
@Injectable()
export class DeliveryReportAccessKeyGuard implements CanActivate {
  private readonly logger = new Logger(DeliveryReportAccessKeyGuard.name);
  private readonly expected: Buffer;
  private readonly allowQueryKey: boolean;

  constructor(
    @Inject(STATUS_POLLER_CONFIG) config: StatusPollerConfig,
    private readonly stats: DeliveryReportStats,
  ) {
    this.expected = digest(config.deliveryReports.accessKey);
    this.allowQueryKey = config.deliveryReports.allowQueryKey;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<IncomingMessage & { body?: unknown }>();
    const presented = this.presentedKey(request);
    if (presented !== undefined && timingSafeEqual(digest(presented), this.expected)) return true;
    if (presented === undefined && (request.method === 'OPTIONS' || isValidationHandshake(request.body))) {
      return true;
    }
    this.stats.rejectedRequest('unauthorized');
    this.logger.warn(
      `Delivery report request with ${presented === undefined ? 'no' : 'a wrong'} access key refused`,
    );
    throw ProblemException.of(
      401,
      presented === undefined
        ? `The ${DELIVERY_REPORT_KEY_HEADER} header is required`
        : `The ${DELIVERY_REPORT_KEY_HEADER} header is not valid`,
    );
  }

  private presentedKey(request: IncomingMessage): string | undefined {
    // A repeated header arrives as one comma-joined string, which then simply does not match.
    const header = request.headers[DELIVERY_REPORT_KEY_HEADER.toLowerCase()];
    if (typeof header === 'string') return header;
    if (!this.allowQueryKey) return undefined;
    const params = new URL(request.url ?? '/', 'http://localhost').searchParams;
    let presented: string | undefined;
    for (const [name, value] of params) if (name.toLowerCase() === 'accesskey') presented = value;
    return presented;
  }
}

function isValidationHandshake(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  try {
    return parseEventGridDelivery(body).kind === 'validation';
  } catch {
    return false;
  }
}
