import { Controller, Get, Header, Inject } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { LIVENESS_CHECKS, READINESS_CHECKS, type ReadinessCheck } from './readiness-check';
import { HEALTH_OPTIONS, type ResolvedHealthOptions } from './health.options';
import { runReadinessCheck } from './run-readiness-check';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_CHECKS) private readonly checks: readonly ReadinessCheck[],
    @Inject(LIVENESS_CHECKS) private readonly livenessChecks: readonly ReadinessCheck[],
    @Inject(HEALTH_OPTIONS) private readonly options: ResolvedHealthOptions,
  ) {}

  /**
   * Answers as long as the event loop does and the liveness checks pass (a consumer that crashed or stalled).
   * Deliberately checks no dependency: Kubernetes restarts a pod whose liveness fails, and restarting every replica
   * during a broker or database outage only makes it worse.
   */
  @Get('live')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  live(): HealthCheckResult | Promise<HealthCheckResult> {
    if (this.livenessChecks.length === 0) return { status: 'ok', info: {}, error: {}, details: {} };
    return this.health.check(
      this.livenessChecks.map(
        (check) => () => runReadinessCheck(this.indicators, check, check.timeoutMs ?? this.options.timeoutMs),
      ),
    );
  }

  /** Runs every readiness check in parallel, each bounded by its timeout: 200 when all pass, else 503. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check(
      this.checks.map(
        (check) => () => runReadinessCheck(this.indicators, check, check.timeoutMs ?? this.options.timeoutMs),
      ),
    );
  }
}
