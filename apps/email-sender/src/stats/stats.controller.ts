import { Controller, Delete, Get, Header, HttpCode } from '@nestjs/common';
import { KafkaRuntime } from '@notifications/messaging';
import { ManagementEndpoint } from '@notifications/observability';
import { AcsEmailClient } from '../acs/acs-email.client';
import { HaltedOrders } from '../sending/halted-orders';
import { SendStatistics } from '../sending/send-statistics';
import { SendThrottle } from '../sending/send-throttle';

/**
 * `GET /stats`: what this replica has done (outcomes, results published, consume → accepted latency), whether a
 * rate-limit pause is in force, the halted orders it knows and the ListOffsets checks they cost, and the Kafka
 * consumer's own counters. Cheap: counters only.
 * `DELETE /stats` starts the sending counters afresh (the consumer's own counters keep running).
 * Management listener only (operator token).
 */
@ManagementEndpoint()
@Controller('stats')
export class StatsController {
  constructor(
    private readonly stats: SendStatistics,
    private readonly throttle: SendThrottle,
    private readonly acs: AcsEmailClient,
    private readonly runtime: KafkaRuntime,
    private readonly halts: HaltedOrders,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  get(): Record<string, unknown> {
    return {
      sending: this.stats.snapshot(),
      throttle: this.throttle.snapshot(),
      acs: { endpoint: this.acs.endpoint },
      halts: this.halts.snapshot(),
      consumer: this.runtime.consumerRunners[0]?.statistics() ?? null,
    };
  }

  @Delete()
  @HttpCode(204)
  reset(): void {
    this.stats.reset();
  }
}
