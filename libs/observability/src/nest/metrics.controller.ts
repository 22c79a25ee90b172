import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Registry } from 'prom-client';
import { METRICS_REGISTRY } from './tokens';
import { ManagementEndpoint } from './management/management.module';

/** `GET /metrics`: Prometheus text format. */
// Management listener, no operator token: monitoring scrapes it, and it holds aggregate counters only.
@ManagementEndpoint({ operatorCredential: false })
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
