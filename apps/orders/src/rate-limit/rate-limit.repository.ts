import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql';
import { type Tx } from '../database/unit-of-work';

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
}
