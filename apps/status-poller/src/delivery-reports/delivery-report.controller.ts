import { type ServerResponse } from 'node:http';
import { Body, Controller, Headers, HttpCode, Logger, Options, Post, Res, UseGuards } from '@nestjs/common';
import { ProblemException } from '@notifications/observability';
import { DeliveryReportAccessKeyGuard } from './delivery-report-access-key.guard';
import { DeliveryReportService } from './delivery-report.service';
import { DeliveryReportStats } from './delivery-report-stats';
import { MalformedDeliveryError, TooManyEventsError } from './event-grid-events';

/**
 * `POST /notifications/email/api/v1/reports` with the `X-Delivery-Report-Key` header — the Event Grid webhook for
 * ACS email delivery reports.
 * The body is read as text (see `configureHttp`) so that a malformed body gets a precise 400 from here rather
 * than a generic parser error.
 */
@Controller('notifications/email/api/v1/reports')
@UseGuards(DeliveryReportAccessKeyGuard)
export class DeliveryReportController {
  private readonly logger = new Logger(DeliveryReportController.name);

  constructor(
    private readonly service: DeliveryReportService,
    private readonly stats: DeliveryReportStats,
  ) {}

  @Post()
  @HttpCode(200)
  async receive(@Body() body: unknown): Promise<Record<string, unknown>> {
    this.stats.request();
    let delivery;
    try {
      delivery = this.service.parse(typeof body === 'string' ? body : '');
    } catch (error) {
      if (error instanceof TooManyEventsError) {
        this.stats.rejectedRequest('tooManyEvents');
        // 413 is not retried by Event Grid (delivery-and-retry): the subscription's "max events per batch" must
        // not exceed DELIVERY_REPORT_MAX_EVENTS, which defaults to Event Grid's own maximum.
        throw ProblemException.of(413, error.message, {
          title: 'Too many events',
          extensions: { events: error.count, maxEvents: error.max },
        });
      }
      if (!(error instanceof MalformedDeliveryError)) throw error;
      this.stats.rejectedRequest('malformed');
      throw ProblemException.of(400, error.problems.join('; '), {
        title: 'Malformed Event Grid delivery',
        extensions: { problems: error.problems },
      });
    }
    let outcome;
    try {
      outcome = await this.service.process(delivery);
    } catch (error) {
      this.stats.rejectedRequest('unavailable');
      this.logger.error(`Could not publish delivery reports: ${(error as Error).message}`);
      // Event Grid retries on 503, so nothing is lost while Kafka is unavailable.
      throw ProblemException.of(503, 'Kafka did not acknowledge the status updates');
    }
    if (outcome.kind === 'validation') return { validationResponse: outcome.validationCode };
    const { kind: _kind, ...counts } = outcome;
    return counts;
  }

  /** CloudEvents webhook abuse protection (Event Grid's handshake for the CloudEvents schema). */
  @Options()
  handshake(
    @Headers('webhook-request-origin') origin: string | undefined,
    @Res() response: ServerResponse,
  ): void {
    response.statusCode = 200;
    if (origin) {
      response.setHeader('WebHook-Allowed-Origin', origin);
      response.setHeader('WebHook-Allowed-Rate', '*');
    }
    response.end();
  }
}
