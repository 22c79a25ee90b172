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
        { provide: OperationRepository, useFactory: () => new OperationRepository(config.store.maxMessages) },
        {
          provide: MessageRepository,
          useFactory: () => new MessageRepository(config.store.maxMessages, config.store.storedBodyChars),
        },
        // Tracked for 5 minutes; bounded like the operations, so a flood of request ids cannot exhaust memory.
        { provide: RepeatableRequests, useFactory: () => new RepeatableRequests(config.store.maxMessages) },
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
