import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ProblemException } from '../common/problem-details';
import { STATUS_POLLER_CONFIG, type StatusPollerConfig } from '../config/status-poller.config';
import { DeliveryReportStats } from './delivery-report-stats';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Event Grid webhooks authenticate with a secret in the subscription's URL (`?accesskey=…`, as the reference's
 * endpoint did). Compared in constant time; a missing or wrong key is a 401 problem.
 */
@Injectable()
export class DeliveryReportAccessKeyGuard implements CanActivate {
  private readonly logger = new Logger(DeliveryReportAccessKeyGuard.name);
  private readonly expected: Buffer;

  constructor(
    @Inject(STATUS_POLLER_CONFIG) config: StatusPollerConfig,
    private readonly stats: DeliveryReportStats,
  ) {
    this.expected = digest(config.deliveryReports.accessKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    const params = new URL(request.url ?? '/', 'http://localhost').searchParams;
    let presented: string | undefined;
    for (const [name, value] of params) if (name.toLowerCase() === 'accesskey') presented = value;
    if (presented !== undefined && timingSafeEqual(digest(presented), this.expected)) return true;
    this.stats.rejectedRequest('unauthorized');
    this.logger.warn(
      `Delivery report request with ${presented === undefined ? 'no' : 'a wrong'} access key refused`,
    );
    throw new ProblemException(
      401,
      'Unauthorized',
      presented === undefined
        ? 'The accesskey query parameter is required'
        : 'The accesskey query parameter is not valid',
    );
  }
}
