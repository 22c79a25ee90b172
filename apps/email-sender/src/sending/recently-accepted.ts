/**
 * Notification ids whose send ACS accepted in this process, newest last, at most `capacity` of them (the oldest
 * are forgotten). The same Email published twice upstream (e.g. an outbox relay that crashed between publishing
 * and marking) lands on the same partition, as messages are keyed by notification id, so normally on this
 * process: it is answered from here without a second POST or even a lookup.
 */
export class RecentlyAccepted {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(notificationId: string): boolean {
    return this.ids.has(notificationId);
  }

  remember(notificationId: string): void {
    if (this.ids.has(notificationId)) return;
    this.ids.add(notificationId);
    if (this.ids.size > this.capacity) {
      // A Set iterates in insertion order: the first id is the oldest.
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }
}
