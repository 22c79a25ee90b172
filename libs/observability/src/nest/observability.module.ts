import {
  type DynamicModule,
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { KafkaRuntime } from '@notifications/messaging';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { MessagingMetrics } from '../lib/metrics/messaging-metrics';
import { createMetricsRegistry } from '../lib/metrics/metrics-registry';
import { StatusTracker } from '../lib/status/service-status';
import { LogContextInstrumentation } from './log-context.instrumentation';
import { ManagementModule } from './management/management.module';
import { MetricsController } from './metrics.controller';
import { OBSERVABILITY_OPTIONS, type ObservabilityModuleOptions } from './observability-options';
import { pinoHttpParams } from './pino-http-params';
import { StatusController } from './status.controller';
import { METRICS_REGISTRY } from './tokens';
import { TracingMiddleware } from './tracing.middleware';

/** Hooks the runtime's consumers and producer up to metrics and log context before any consumer starts. */
@Injectable()
class MessagingInstrumentationInstaller implements OnModuleInit {
  constructor(
    private readonly runtime: KafkaRuntime,
    private readonly metrics: MessagingMetrics,
    private readonly pinoLogger: PinoLogger,
    @Inject(OBSERVABILITY_OPTIONS) private readonly options: ObservabilityModuleOptions,
  ) {}

  onModuleInit(): void {
    this.metrics.attach(this.runtime);
    this.runtime.instrument(new LogContextInstrumentation(this.pinoLogger, this.options.correlationFields));
  }
}

/** Last out: flushes what the app asked for (buffered spans) once every other provider has shut down. */
@Injectable()
class ObservabilityShutdown implements OnApplicationShutdown {
  constructor(@Inject(OBSERVABILITY_OPTIONS) private readonly options: ObservabilityModuleOptions) {}

  async onApplicationShutdown(): Promise<void> {
    await this.options.onShutdown?.();
  }
}

/**
 * Per app: JSON logs through nestjs-pino (request and Kafka message context), `GET /metrics` (process metrics
 * + the messaging runtime's), `GET /status`, and a server span per HTTP request when tracing is on. Needs the
 * MessagingModule (global) for the KafkaRuntime.
 */
@Module({})
export class ObservabilityModule implements NestModule {
  static forRoot(options: ObservabilityModuleOptions): DynamicModule {
    const logger = options.logger ?? pino({ level: 'silent' });
    const registry = options.registry ?? createMetricsRegistry(options.service);
    return {
      module: ObservabilityModule,
      global: true,
      imports: [
        LoggerModule.forRoot(pinoHttpParams(logger, options.httpRequests ?? true)),
        ManagementModule.forRoot(options.management),
      ],
      controllers: [MetricsController, StatusController],
      providers: [
        { provide: OBSERVABILITY_OPTIONS, useValue: options },
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: MessagingMetrics, useFactory: () => new MessagingMetrics(registry) },
        {
          provide: StatusTracker,
          useFactory: (runtime: KafkaRuntime) => new StatusTracker(options.service, runtime),
          inject: [KafkaRuntime],
        },
        MessagingInstrumentationInstaller,
        ObservabilityShutdown,
      ],
      exports: [METRICS_REGISTRY, MessagingMetrics, StatusTracker],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TracingMiddleware).forRoutes('*');
  }
}
