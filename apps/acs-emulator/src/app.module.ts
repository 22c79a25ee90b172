import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule } from '@notifications/health';
import { AcsHttpHandler } from './acs/acs-http.handler';
import { EmailService } from './acs/email.service';
import { RepeatableRequests } from './acs/repeatable-requests';
import { SendSettings } from './acs/send-settings';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { CLOCK, systemClock, type Clock } from './common/clock';
import { EMULATOR_CONFIG, type EmulatorConfig } from './config/emulator.config';
import { DeliveryReportService } from './delivery-report/delivery-report.service';
import { SlidingWindowRateLimiter } from './scripting/rate-limiter';
import { RuleBook } from './scripting/rule-book';
import { MessageRepository } from './store/message.repository';
import { OperationRepository } from './store/operation.repository';
import { RequestStats } from './store/request-stats';

const MAX_TRACKED_REPEATABLE_REQUESTS = 1_000_000;

@Module({})
export class AppModule {
  static forRoot(config: EmulatorConfig, clock: Clock = systemClock): DynamicModule {
    return {
      module: AppModule,
      // No readiness checks: the emulator depends on nothing, so it is ready as soon as it listens.
      imports: [HealthModule.forRoot()],
      controllers: [AdminController],
      providers: [
        { provide: EMULATOR_CONFIG, useValue: config },
        { provide: CLOCK, useValue: clock },
        {
          provide: RuleBook,
          useFactory: () => new RuleBook(clock, config.scripting.rules, config.scripting.builtInRules),
        },
        {
          provide: SlidingWindowRateLimiter,
          useFactory: () => new SlidingWindowRateLimiter(config.scripting.rateLimitPerMinute),
        },
        // Every operation id since the last reset, compactly (the duplicate check is exact); messages are a window.
        { provide: OperationRepository, useFactory: () => new OperationRepository() },
        {
          provide: MessageRepository,
          useFactory: () =>
            new MessageRepository(
              config.store.maxMessages,
              config.store.storedBodyChars,
              config.store.maxMessageChars,
            ),
        },
        // Tracked for 5 minutes (3 300 sends/s fill the bound), bounded so that a flood of request ids cannot
        // exhaust memory.
        {
          provide: RepeatableRequests,
          useFactory: () => new RepeatableRequests(MAX_TRACKED_REPEATABLE_REQUESTS),
        },
        RequestStats,
        SendSettings,
        DeliveryReportService,
        EmailService,
        AcsHttpHandler,
        AdminService,
      ],
    };
  }
}
