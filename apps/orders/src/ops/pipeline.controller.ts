import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import { ApiExcludeController, ApiOperation } from '@nestjs/swagger';
import {
  ACS_EMAIL_RESOURCE,
  type EmailSenderRateLimitView,
  type OrdersRateLimitView,
  type OutboxView,
} from '@notifications/contracts';
import { type GroupLag } from '@notifications/messaging';
import { ManagementEndpoint, StatusTracker, type ServiceStatus } from '@notifications/observability';
import { type OrdersConfig } from '../config/orders.config';
import { ORDERS_CONFIG } from '../config/tokens';
import { OutboxRepository } from '../store/outbox.repository';
import { RateLimitRepository } from '../store/rate-limit.repository';
import { UnitOfWork } from '../store/unit-of-work';
import { OperatorKafkaService } from './operator-kafka.service';
import { outboxView, rateLimitView } from './ops.views';

/** What one part of the pipeline answered, or why it could not be asked. */
export type Probe<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export interface PipelineAppView {
  readonly app: 'orders' | 'email-sender' | 'status-poller';
  /** The management listener asked (absent for orders itself). */
  readonly url?: string;
  /** The app's `GET /status`: consumers, in process, retried, dead-lettered, lost, recent errors. */
  readonly status: Probe<ServiceStatus>;
  /** email-sender's in-process pause after an ACS 429. */
  readonly rateLimit?: Probe<EmailSenderRateLimitView>;
}

export interface PipelineView {
  readonly checkedAt: string;
  readonly apps: readonly PipelineAppView[];
  /** Consumer lag of the pipeline's consumer groups. */
  readonly lag: Probe<readonly GroupLag[]>;
  /** The stored email rate-limit pause (every orders replica honours it) and when it ends. */
  readonly rateLimit: OrdersRateLimitView;
  readonly outbox: OutboxView;
}

/**
 * The console's pipeline page in one call (management listener, operator token): every app's `/status`, the
 * consumer lag, the rate-limit pause and the outbox backlog. The peers are asked on their management listeners
 * (EMAIL_SENDER_MANAGEMENT_URL, STATUS_POLLER_MANAGEMENT_URL), with the caller's operator token where the route
 * needs one (every app trusts the same operator credential); a peer that does not answer in CONSOLE_PEER_TIMEOUT
 * is shown as such instead of failing the page. The URLs are the deployment's settings, never request input, so
 * these requests do not go through the outbound guard meant for callers' URLs.
 */
@ManagementEndpoint()
@ApiExcludeController()
@Controller('internal/pipeline')
export class PipelineController {
  constructor(
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxRepository,
    private readonly pauses: RateLimitRepository,
    private readonly tracker: StatusTracker,
    private readonly kafka: OperatorKafkaService,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "Every app's /status, consumer lag, the rate-limit pause and the outbox backlog" })
  async pipeline(
    @Req() request: { headers: Record<string, string | string[] | undefined> },
  ): Promise<PipelineView> {
    const authorization = request.headers['authorization'];
    const token = typeof authorization === 'string' ? authorization : undefined;
    const { emailSenderManagementUrl, statusPollerManagementUrl } = this.config.console;
    const tx = this.uow.autoCommit;
    const [emailSenderStatus, emailSenderPause, pollerStatus, lag, pause, backlog] = await Promise.all([
      this.peer<ServiceStatus>(emailSenderManagementUrl, '/status'),
      this.peer<EmailSenderRateLimitView>(emailSenderManagementUrl, '/internal/rate-limit', token),
      this.peer<ServiceStatus>(statusPollerManagementUrl, '/status'),
      probe(async () => {
        const { service, groups } = this.kafka.lag();
        return service.lag(groups);
      }),
      this.pauses.findPause(tx, ACS_EMAIL_RESOURCE),
      this.outbox.backlogByTopic(tx),
    ]);
    return {
      checkedAt: new Date().toISOString(),
      apps: [
        { app: 'orders', status: { ok: true, value: this.tracker.status() } },
        {
          app: 'email-sender',
          url: emailSenderManagementUrl,
          status: emailSenderStatus,
          rateLimit: emailSenderPause,
        },
        { app: 'status-poller', url: statusPollerManagementUrl, status: pollerStatus },
      ],
      lag,
      rateLimit: rateLimitView(pause),
      outbox: outboxView(backlog),
    };
  }

  private peer<T>(baseUrl: string, path: string, authorization?: string): Promise<Probe<T>> {
    return probe(async () => {
      const response = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, {
        headers: { accept: 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        signal: AbortSignal.timeout(this.config.console.peerTimeoutMs),
      });
      if (!response.ok) throw new Error(`${path} answered ${response.status}`);
      return (await response.json()) as T;
    });
  }
}

async function probe<T>(run: () => Promise<T>): Promise<Probe<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
