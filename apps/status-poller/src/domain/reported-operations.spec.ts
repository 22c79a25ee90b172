import { type EmailSendResult } from '@notifications/contracts';
import { endsPolling, ReportedOperations } from './reported-operations';

describe(ReportedOperations.name, () => {
  it('remembers operations with a final delivery report', () => {
    const reported = new ReportedOperations(10);
    reported.remember('op-1', 'Delivered');
    reported.remember('op-2', 'Failed_Bounced');
    expect(reported.has('op-1')).toBe(true);
    expect(reported.has('op-2')).toBe(true);
    expect(reported.has('op-3')).toBe(false);
  });

  it.each<EmailSendResult>(['Succeeded', 'Sending', 'Failed_TransientError'])(
    'does not remember a result that is not final in orders (%s): the operation is still polled',
    (result) => {
      const reported = new ReportedOperations(10);
      reported.remember('op-1', result);
      expect(reported.has('op-1')).toBe(false);
      expect(endsPolling(result)).toBe(false);
    },
  );

  it('forgets the oldest ids beyond its capacity, and a repeated report does not take a second slot', () => {
    const reported = new ReportedOperations(3);
    reported.remember('op-1', 'Delivered');
    reported.remember('op-2', 'Delivered');
    reported.remember('op-2', 'Delivered');
    reported.remember('op-3', 'Delivered');
    reported.remember('op-4', 'Delivered');
    expect(['op-1', 'op-2', 'op-3', 'op-4'].map((id) => reported.has(id))).toEqual([false, true, true, true]);
    expect(reported.size).toBe(3);
  });

  it('remembers nothing with capacity 0, and never the empty operation id', () => {
    const off = new ReportedOperations(0);
    off.remember('op-1', 'Delivered');
    expect(off.has('op-1')).toBe(false);
    const on = new ReportedOperations(2);
    on.remember('', 'Delivered');
    expect(on.size).toBe(0);
  });
});
