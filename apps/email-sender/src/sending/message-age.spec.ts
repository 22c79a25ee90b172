import { MessagingHeaders } from '@notifications/messaging';
import { firstPublishedAtMs, tooOldByMs } from './message-age';

const NOW = Date.parse('2026-03-16T08:00:00.000Z');
const HOUR = 3_600_000;

describe(tooOldByMs.name, () => {
  it('lets a message younger than the max age through and measures how much older one is', () => {
    expect(tooOldByMs({ headers: {}, timestamp: String(NOW - 47 * HOUR) }, 48 * HOUR, NOW)).toBe(0);
    expect(tooOldByMs({ headers: {}, timestamp: String(NOW - 50 * HOUR) }, 48 * HOUR, NOW)).toBe(2 * HOUR);
  });

  it('measures a retried message from its first publication (x-original-timestamp), not the retry', () => {
    const retried = {
      headers: { [MessagingHeaders.originalTimestamp]: String(NOW - 8 * 24 * HOUR) },
      timestamp: String(NOW - 1_000),
    };
    expect(firstPublishedAtMs(retried)).toBe(NOW - 8 * 24 * HOUR);
    expect(tooOldByMs(retried, 48 * HOUR, NOW)).toBeGreaterThan(0);
  });

  it('sends a message whose time cannot be read rather than dropping it', () => {
    expect(tooOldByMs({ headers: {}, timestamp: 'x' }, 48 * HOUR, NOW)).toBe(0);
    expect(tooOldByMs({ headers: {}, timestamp: '' }, 48 * HOUR, NOW)).toBe(0);
  });
});
