import { Injectable } from '@nestjs/common';
import { queryRows } from './sql';
import { type Tx } from './unit-of-work';

/** The stored pause of a resource (in force or not). */
export interface RateLimitPause {
  readonly resource: string;
  readonly pausedUntil: Date;
  readonly source: string | null;
  readonly updatedAt: Date;
}

/** Every query on `rate_limit_pauses`. */
@Injectable()
export class RateLimitRepository {
  /** The end of the pause of `resource` when one is in force now. */
  async activePause(tx: Tx, resource: string): Promise<Date | undefined> {
    const rows = await queryRows<{ paused_until: Date }>(
      tx.manager,
      'SELECT paused_until FROM rate_limit_pauses WHERE resource = $1 AND paused_until > now()',
      [resource],
    );
    return rows[0]?.paused_until;
  }

  /**
   * Pauses `resource` until `until`. A pause never shortens one already in force: the provider's latest word
   * could arrive before an earlier, longer one.
   */
  async pauseUntil(tx: Tx, resource: string, until: Date, source: string): Promise<Date> {
    const rows = await queryRows<{ paused_until: Date }>(
      tx.manager,
      `INSERT INTO rate_limit_pauses (resource, paused_until, source, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (resource) DO UPDATE
          SET paused_until = CASE WHEN rate_limit_pauses.paused_until > now()
                                  THEN GREATEST(rate_limit_pauses.paused_until, EXCLUDED.paused_until)
                                  ELSE EXCLUDED.paused_until END,
              source = EXCLUDED.source, updated_at = now()
       RETURNING paused_until`,
      [resource, until, source],
    );
    return rows[0]?.paused_until ?? until;
  }

  /** The stored pause of `resource`, in force or expired (operators' view). */
  async findPause(tx: Tx, resource: string): Promise<RateLimitPause | undefined> {
    const rows = await queryRows<{ paused_until: Date; source: string | null; updated_at: Date }>(
      tx.manager,
      'SELECT paused_until, source, updated_at FROM rate_limit_pauses WHERE resource = $1',
      [resource],
    );
    const row = rows[0];
    return row && { resource, pausedUntil: row.paused_until, source: row.source, updatedAt: row.updated_at };
  }

  /** Ends a pause in force now (an operator's decision); returns the end it had, if one was in force. */
  async endPause(tx: Tx, resource: string, source: string): Promise<Date | undefined> {
    const rows = await queryRows<{ previous: Date }>(
      tx.manager,
      `UPDATE rate_limit_pauses p SET paused_until = now(), source = $2, updated_at = now()
         FROM (SELECT resource, paused_until AS previous FROM rate_limit_pauses
                WHERE resource = $1 AND paused_until > now() FOR UPDATE) old
        WHERE p.resource = old.resource
        RETURNING old.previous`,
      [resource, source],
    );
    return rows[0]?.previous;
  }
}
