import { Controller, Get } from '@nestjs/common';
import { KafkaRuntime } from '@notifications/messaging';
import { ManagementEndpoint } from '@notifications/observability';
import { DeliveryReportStats } from '../delivery-reports/delivery-report-stats';
import { PollingStats } from '../polling/polling-stats';

/** `GET /stats`: what the poller has done since start (Aidbox-style status: handled, in process, errors).
 * Management listener only (operator token). */
@ManagementEndpoint()
@Controller('stats')
export class StatsController {
  constructor(
    private readonly polling: PollingStats,
    private readonly deliveryReports: DeliveryReportStats,
    private readonly runtime: KafkaRuntime,
  ) {}

  @Get()
  stats(): Record<string, unknown> {
    return {
      polling: this.polling.snapshot(),
      deliveryReports: this.deliveryReports.snapshot(),
      consumer: this.runtime.consumerRunners[0]?.statistics() ?? { state: 'not started' },
    };
  }
}
