import { NotificationStatusTracker, type NotificationSnapshot } from './demo-status.tracker';
import {
  expectedDemoResult,
  formatChange,
  formatDuration,
  formatSummaryTable,
  notRunningMessage,
} from './demo-report';

const START = 10_000;
const ola = (status: NotificationSnapshot['status']): NotificationSnapshot => ({
  id: 'n-ola',
  recipient: 'ola@example.com',
  status,
});
const kari = (status: NotificationSnapshot['status']): NotificationSnapshot => ({
  id: 'n-kari',
  recipient: 'kari@bounce.test',
  status,
});

describe(NotificationStatusTracker.name, () => {
  it('reports a notification once when first seen and once per change, never for an unchanged poll', () => {
    const tracker = new NotificationStatusTracker(START);

    expect(tracker.observeNotifications([ola('New')], START + 500)).toEqual([
      {
        kind: 'notification',
        elapsedMs: 500,
        id: 'n-ola',
        recipient: 'ola@example.com',
        to: 'New',
        final: false,
      },
    ]);
    expect(tracker.observeNotifications([ola('New')], START + 750)).toEqual([]);
    expect(tracker.observeNotifications([ola('Sending'), kari('Sending')], START + 1_000)).toEqual([
      expect.objectContaining({ id: 'n-ola', from: 'New', to: 'Sending', final: false }),
      expect.objectContaining({ id: 'n-kari', to: 'Sending', final: false }),
    ]);
    expect(tracker.observeNotifications([ola('Delivered'), kari('Sending')], START + 2_250)).toEqual([
      expect.objectContaining({
        id: 'n-ola',
        from: 'Sending',
        to: 'Delivered',
        final: true,
        elapsedMs: 2_250,
      }),
    ]);
  });

  it('treats Succeeded as pending (a delivery report follows) and a re-send back to New as a change', () => {
    const tracker = new NotificationStatusTracker(START);
    tracker.observeNotifications([ola('Sending')], START + 100);
    tracker.observeNotifications([ola('New')], START + 2_000);
    const [succeeded] = tracker.observeNotifications([ola('Succeeded')], START + 13_000);

    expect(succeeded).toMatchObject({ from: 'New', to: 'Succeeded', final: false });
    expect(tracker.pending()).toEqual([expect.objectContaining({ id: 'n-ola', status: 'Succeeded' })]);
  });

  it('is done only when the order is Completed and every notification is final', () => {
    const tracker = new NotificationStatusTracker(START);
    tracker.observeOrder('Processed', START + 800);
    tracker.observeNotifications([ola('Delivered'), kari('Succeeded')], START + 1_000);
    expect(tracker.done).toBe(false);

    // Completed while a notification still looks pending (the two endpoints are polled one after the other).
    tracker.observeOrder('Completed', START + 1_500);
    expect(tracker.done).toBe(false);
    expect(tracker.orderFinal).toBe(true);

    tracker.observeNotifications([ola('Delivered'), kari('Failed_Bounced')], START + 1_600);
    expect(tracker.done).toBe(true);
    expect(tracker.orderFinalAfterMs).toBe(1_500);
    expect(tracker.summary()).toEqual([
      { id: 'n-ola', recipient: 'ola@example.com', status: 'Delivered', final: true, timeToFinalMs: 1_000 },
      {
        id: 'n-kari',
        recipient: 'kari@bounce.test',
        status: 'Failed_Bounced',
        final: true,
        timeToFinalMs: 1_600,
      },
    ]);
  });

  it('reports order status changes with the previous status, and Cancelled as final but not done', () => {
    const tracker = new NotificationStatusTracker(START);
    expect(tracker.observeOrder('Registered', START + 50)).toEqual({
      kind: 'order',
      elapsedMs: 50,
      to: 'Registered',
    });
    expect(tracker.observeOrder('Registered', START + 60)).toBeUndefined();
    expect(tracker.observeOrder('Cancelled', START + 70)).toMatchObject({
      from: 'Registered',
      to: 'Cancelled',
    });
    expect(tracker.orderFinal).toBe(true);
    expect(tracker.done).toBe(false);
  });
});

describe('demo report', () => {
  it('formats durations in seconds, and minutes beyond a minute', () => {
    expect(formatDuration(0)).toBe('0.0s');
    expect(formatDuration(1_260)).toBe('1.3s');
    expect(formatDuration(65_000)).toBe('1m05.0s');
  });

  it('writes one readable line per change, marking final statuses and re-sends', () => {
    expect(
      formatChange(
        {
          kind: 'notification',
          elapsedMs: 1_400,
          id: 'x',
          recipient: 'ola@x.no',
          from: 'Sending',
          to: 'Delivered',
          final: true,
        },
        10,
      ),
    ).toBe('   +1.4s  ola@x.no    Sending → Delivered (final)');
    expect(
      formatChange(
        {
          kind: 'notification',
          elapsedMs: 2_000,
          id: 'x',
          recipient: 'ola@x.no',
          from: 'Sending',
          to: 'New',
          final: false,
        },
        10,
      ),
    ).toContain('Sending → New (re-queued');
    expect(formatChange({ kind: 'order', elapsedMs: 300, to: 'Registered' }, 5)).toBe(
      '   +0.3s  order  Registered',
    );
  });

  it("expects the emulator's demo domains to end as its README says", () => {
    expect(expectedDemoResult('x@Bounce.test')).toBe('Failed_Bounced');
    expect(expectedDemoResult('x@suppressed.test')).toBe('Failed_SupressedRecipient');
    expect(expectedDemoResult('demo-1@briefly.throttle.test')).toBe('Delivered');
    expect(expectedDemoResult(undefined)).toBe('Delivered');
  });

  it('lays out the summary table in aligned columns and flags unexpected results', () => {
    const lines = formatSummaryTable([
      {
        id: 'a',
        recipient: 'ola@example.com',
        status: 'Delivered',
        final: true,
        timeToFinalMs: 2_000,
        expected: 'Delivered',
      },
      { id: 'b', recipient: 'k@bounce.test', status: 'Succeeded', final: false, expected: 'Failed_Bounced' },
      {
        id: 'c',
        recipient: 'x@spam.test',
        status: 'Delivered',
        final: true,
        timeToFinalMs: 61_000,
        expected: 'Failed_FilteredSpam',
      },
    ]);
    expect(lines).toEqual([
      'recipient        final status               time to final  as expected',
      '---------------  -------------------------  -------------  ' + '-'.repeat(33),
      'ola@example.com  Delivered                  2.0s           yes',
      'k@bounce.test    Succeeded (still pending)  –              –',
      'x@spam.test      Delivered                  1m01.0s        no (expected Failed_FilteredSpam)',
    ]);
  });
});

describe(notRunningMessage.name, () => {
  const notStarted = (name: string) => ({
    name,
    answers: false,
    reason: `nothing answers at http://127.0.0.1:5090 (ECONNREFUSED)`,
  });

  it('says in one line that the system is not running and how to start it when no app answers', () => {
    const message = notRunningMessage(
      ['orders', 'email-sender', 'status-poller', 'acs-emulator'].map(notStarted),
      4,
    );

    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/^The system is not running .*`npm start`.*`npm run demo` again\.$/);
  });

  it('names each app that is not ready when some of the system is up', () => {
    const message = notRunningMessage(
      [
        notStarted('email-sender'),
        {
          name: 'orders',
          answers: true,
          reason: 'http://127.0.0.1:5090/health/ready answers 503: kafka down',
        },
      ],
      4,
    );

    expect(message.split('\n')).toEqual([
      'The system is not fully running:',
      '  email-sender  nothing answers at http://127.0.0.1:5090 (ECONNREFUSED)',
      '  orders        http://127.0.0.1:5090/health/ready answers 503: kafka down',
      expect.stringContaining('The notification pipeline is ready'),
    ]);
  });
});
