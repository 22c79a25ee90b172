import { METRIC_PREFIX } from '@notifications/observability';
import { Counter, type Registry } from 'prom-client';
import { SendStatistics, type SendOutcomeKind } from '../sending/send-statistics';

/** The `result` label values of `notifications_emails_sent_total`, snake_case. */
const RESULT_LABELS: Record<SendOutcomeKind, string> = {
  accepted: 'accepted',
  alreadyAccepted: 'already_accepted',
  rejected: 'rejected',
  rateLimited: 'rate_limited',
  retryScheduled: 'retry_scheduled',
  gaveUp: 'gave_up',
  heldBack: 'held_back',
  withheld: 'withheld',
  acsUnavailable: 'acs_unavailable',
};

/**
 * SendStatistics that also feeds Prometheus: every send outcome by result, and ACS throttling (HTTP 429) on its
 * own counter for alerting. `DELETE /stats` resets the JSON counters only; Prometheus counters never go back.
 */
export class MeteredSendStatistics extends SendStatistics {
  private readonly sent: Counter<'result'>;
  private readonly throttled: Counter;

  constructor(registry: Registry) {
    super();
    this.sent = new Counter({
      name: `${METRIC_PREFIX}emails_sent_total`,
      help: 'Emails the sender finished an attempt on, by result (accepted by ACS, rejected, rate_limited, …)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.throttled = new Counter({
      name: `${METRIC_PREFIX}acs_throttled_total`,
      help: 'ACS answers 429 (Too Many Requests): each one pauses sending until the Retry-After',
      registers: [registry],
    });
    // Every result series from the start, so rate() works before the first of each kind happens.
    for (const result of Object.values(RESULT_LABELS)) this.sent.inc({ result }, 0);
  }

  override accepted(latencyMs: number): void {
    super.accepted(latencyMs);
    this.sent.inc({ result: RESULT_LABELS.accepted });
  }

  override outcome(kind: Exclude<SendOutcomeKind, 'accepted'>, reason?: string): void {
    super.outcome(kind, reason);
    this.sent.inc({ result: RESULT_LABELS[kind] });
    if (kind === 'rateLimited') this.throttled.inc();
  }
}
