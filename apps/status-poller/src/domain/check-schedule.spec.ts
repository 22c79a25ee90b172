import { type SendNotificationOperationIdentifier } from '@notifications/contracts';
import {
  checkIntervals,
  dueAt,
  intervalAfter,
  nextInterval,
  PollHeaders,
  pollStateHeaders,
  readPollState,
  tierFor,
  type CheckSchedule,
} from './check-schedule';

const schedule: CheckSchedule = {
  firstCheckDelayMs: 2_000,
  backoffMultiplier: 2,
  maxIntervalMs: 60_000,
  deadlineMs: 48 * 3_600_000,
};

const message: SendNotificationOperationIdentifier = {
  notificationId: '5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11',
  operationId: '5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11',
  lastStatusCheck: '2026-03-16T08:00:04.1234567Z',
};
const lastCheck = Date.parse('2026-03-16T08:00:04.123Z');

describe('check schedule', () => {
  it('backs off from the first delay by the multiplier up to the maximum', () => {
    expect(checkIntervals(schedule)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000]);
    expect([0, 1, 2, 5, 6, 50].map((checks) => intervalAfter(schedule, checks))).toEqual([
      2_000, 4_000, 8_000, 60_000, 60_000, 60_000,
    ]);
    expect(checkIntervals({ ...schedule, backoffMultiplier: 1 })).toEqual([2_000]);
    expect(checkIntervals({ ...schedule, backoffMultiplier: 1.5, maxIntervalMs: 5_000 })).toEqual([
      2_000, 3_000, 4_500, 5_000,
    ]);
  });

  it('honours retry-after by rounding up to the next step of the schedule', () => {
    expect(nextInterval(schedule, 1)).toBe(4_000);
    expect(nextInterval(schedule, 1, 1_000)).toBe(4_000);
    expect(nextInterval(schedule, 1, 5_000)).toBe(8_000);
    expect(nextInterval(schedule, 1, 90_000)).toBe(90_000);
  });

  it('caps a retry-after at an hour, so that no due time lies days ahead', () => {
    expect(nextInterval(schedule, 1, 30 * 86_400_000)).toBe(3_600_000);
    expect(nextInterval(schedule, 1, Number.POSITIVE_INFINITY)).toBe(3_600_000);
  });

  it('reads a message without poll headers as not yet checked, counting the deadline from lastStatusCheck', () => {
    const state = readPollState(schedule, message, {});
    expect(state).toEqual({ checks: 0, nextCheckInMs: 2_000, firstAcceptedAt: lastCheck });
    expect(dueAt(schedule, message, state)).toBe(lastCheck + 2_000);
  });

  it('round-trips the poll state through headers and ignores garbage', () => {
    const state = { checks: 3, nextCheckInMs: 16_000, firstAcceptedAt: lastCheck - 30_000 };
    const headers = pollStateHeaders(state, { traceparent: '00-abc-def-01', 'x-attempt': '3' });
    expect(headers).toEqual({
      traceparent: '00-abc-def-01',
      [PollHeaders.checks]: '3',
      [PollHeaders.nextCheckInMs]: '16000',
      [PollHeaders.firstAcceptedAt]: new Date(lastCheck - 30_000).toISOString(),
    });
    expect(readPollState(schedule, message, headers)).toEqual(state);
    expect(
      readPollState(schedule, message, {
        [PollHeaders.checks]: '-1',
        [PollHeaders.nextCheckInMs]: 'soon',
        [PollHeaders.firstAcceptedAt]: 'yesterday',
      }),
    ).toEqual({ checks: 0, nextCheckInMs: 2_000, firstAcceptedAt: lastCheck });
  });

  it('never schedules a check after the deadline', () => {
    const state = {
      checks: 9,
      nextCheckInMs: 60_000,
      firstAcceptedAt: lastCheck - schedule.deadlineMs + 10_000,
    };
    expect(dueAt(schedule, message, state)).toBe(lastCheck + 10_000);
  });

  it('picks the shortest tier that covers the remaining wait, else the longest', () => {
    const tiers = checkIntervals(schedule);
    expect(tierFor(tiers, 1_950)).toBe(2_000);
    expect(tierFor(tiers, 3_990)).toBe(4_000);
    expect(tierFor(tiers, 4_001)).toBe(8_000);
    expect(tierFor(tiers, 300_000)).toBe(60_000);
  });
});
