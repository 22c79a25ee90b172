/** One email's run of ACS-unavailable answers, in this process. */
interface OutageStreak {
  /** Outage pauses taken for this email so far. */
  pauses: number;
  /** When the first of them happened (Date.now()). */
  readonly since: number;
}

/**
 * Decides whether an ACS failure that names no fault of the email (5xx, no answer, timeout) is an **outage**, so
 * the consumer pauses its partition and reads the email again without spending an attempt, or the **email's own
 * failure**, so it spends an attempt as before (retry topic, then Failed_TransientError).
 *
 * An email gets 5xx forever while ACS serves everyone else (a body ACS chokes on, say): pausing on it would stall
 * its partition for good. So a pause is taken only while both hold:
 * - ACS gave no clear answer to any other send since this email's first outage answer (a clear answer elsewhere
 *   means ACS takes sends and the failure is this email's);
 * - this email has had fewer than `maxPausesPerEmail` pauses in a row (with one partition and nothing else to send
 *   there is no "elsewhere": the bound ends the run, ~3 minutes with the runner's 1 s → 30 s backoff at 10).
 * Past either, the streak is forgotten and the failure spends an attempt; the next attempt may pause again.
 *
 * Streaks also mark the emails that **may have been POSTed**: a connection that dropped or timed out may have
 * carried the POST to ACS first, so the email, read again at the same attempt, is looked up before any new POST
 * (`mayHaveBeenPosted`).
 * Kept in memory, at most `capacity` emails (the oldest forgotten): a process restart re-reads the email as a
 * redelivery (`maybeHandledBefore`), which takes the lookup path anyway.
 */
export class AcsOutages {
  private readonly streaks = new Map<string, OutageStreak>();
  /**
   * When ACS last answered a send (POST) clearly: accepted, refused or throttled. Lookups do not count: a GET that
   * works says nothing about sends.
   */
  private lastClearAnswerAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly maxPausesPerEmail: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** ACS answered this email's POST clearly: ACS takes sends, and this email's streak (if any) is over. */
  sendAnswered(notificationId: string): void {
    this.lastClearAnswerAt = this.now();
    this.streaks.delete(notificationId);
  }

  /** The email reached an outcome without a POST (its operation was found): its streak (if any) is over. */
  resolved(notificationId: string): void {
    this.streaks.delete(notificationId);
  }

  /** Earlier outage answers for this email: a POST may have reached ACS although no answer came back. */
  mayHaveBeenPosted(notificationId: string): boolean {
    return this.streaks.has(notificationId);
  }

  /**
   * ACS gave no usable answer for this email: true = pause (an outage; the pause is counted), false = spend an
   * attempt (the failure is the email's, see the class comment).
   */
  shouldPause(notificationId: string): boolean {
    if (this.maxPausesPerEmail === 0) return false;
    const now = this.now();
    const streak = this.streaks.get(notificationId);
    if (streak === undefined) {
      this.remember(notificationId, { pauses: 1, since: now });
      return true;
    }
    if (this.lastClearAnswerAt >= streak.since || streak.pauses >= this.maxPausesPerEmail) {
      this.streaks.delete(notificationId);
      return false;
    }
    streak.pauses += 1;
    return true;
  }

  private remember(notificationId: string, streak: OutageStreak): void {
    this.streaks.set(notificationId, streak);
    if (this.streaks.size > this.capacity) {
      // A Map iterates in insertion order: the first entry is the oldest.
      const oldest = this.streaks.keys().next();
      if (!oldest.done) this.streaks.delete(oldest.value);
    }
  }
}
