import { violatedPaths } from '../../../test/violation';
import { SendNotificationOperationIdentifierContract } from './send-notification-operation-identifier.contract';

const id = '5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11';

describe(SendNotificationOperationIdentifierContract.name, () => {
  it('keeps all 7 fractional digits of lastStatusCheck', () => {
    const wire = `{"notificationId":"${id}","operationId":"${id}","lastStatusCheck":"2024-01-02T13:49:31.5591909Z"}`;

    const parsed = SendNotificationOperationIdentifierContract.parse(wire);

    expect(parsed.lastStatusCheck).toBe('2024-01-02T13:49:31.5591909Z');
    expect(SendNotificationOperationIdentifierContract.serialize(parsed)).toBe(wire);
  });

  it('keeps a timestamp with an offset as it was written', () => {
    const parsed = SendNotificationOperationIdentifierContract.validate({
      notificationId: id,
      operationId: id,
      lastStatusCheck: '2026-03-16T09:00:04.1+01:00',
    });

    expect(parsed.lastStatusCheck).toBe('2026-03-16T09:00:04.1+01:00');
  });

  it('rejects a timestamp without zone', () => {
    expect(
      violatedPaths(() =>
        SendNotificationOperationIdentifierContract.validate({
          notificationId: id,
          operationId: id,
          lastStatusCheck: '2024-01-02T13:49:31.5591909',
        }),
      ),
    ).toEqual(['lastStatusCheck']);
  });

  it('requires an operation id to poll', () => {
    expect(
      violatedPaths(() =>
        SendNotificationOperationIdentifierContract.validate({
          notificationId: id,
          operationId: '',
          lastStatusCheck: '2026-03-16T08:00:04Z',
        }),
      ),
    ).toEqual(['operationId']);
  });
});
