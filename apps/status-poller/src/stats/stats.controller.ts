import { Controller, Get } from '@nestjs/common';
import { ManagementEndpoint } from '@notifications/observability';
import { DeliveryReportStats } from '../delivery-reports/delivery-report-stats';
import { PollingStats } from '../polling/polling-stats';
import { SendingAcceptedConsumer } from '../polling/sending-accepted.consumer';

/** `GET /stats`: what the poller has done since start (Aidbox-style status: handled, in process, errors).
 * Management listener only (operator token). */
@ManagementEndpoint()
@Controller('stats')
export class StatsController {
  constructor(
    private readonly polling: PollingStats,
    private readonly deliveryReports: DeliveryReportStats,
    private readonly consumer: SendingAcceptedConsumer,
  ) {}

  @Get()
  stats(): Record<string, unknown> {
    return {
      polling: this.polling.snapshot(),
      deliveryReports: this.deliveryReports.snapshot(),
      consumer: this.consumer.runner?.statistics() ?? { state: 'not started' },
    };
  }
}
