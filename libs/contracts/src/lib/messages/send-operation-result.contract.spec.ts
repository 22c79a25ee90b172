import { violatedPaths, violationOf } from '../../../test/violation';
import { type SendOperationResult, SendOperationResultContract } from './send-operation-result.contract';

const id = '5c9a8f0e-2f4b-4d6a-9c1e-7b3d2a1f0e11';

describe(SendOperationResultContract.name, () => {
  it('reads a delivery report, which has no notification id', () => {
    const parsed = SendOperationResultContract.parse(`{"operationId":"${id}","sendResult":"Delivered"}`);

    expect(parsed).toEqual({ operationId: id, sendResult: 'Delivered' });
    expect('notificationId' in parsed).toBe(false);
  });

  it('omits an absent or null notification id on output', () => {
    const fromNull = SendOperationResultContract.parse(
      `{"notificationId":null,"operationId":"${id}","sendResult":"Failed_Bounced"}`,
    );

    expect(SendOperationResultContract.serialize(fromNull)).toBe(
      `{"operationId":"${id}","sendResult":"Failed_Bounced"}`,
    );
  });

  it('treats the nil UUID (older reference delivery reports) as no notification id', () => {
    const parsed = SendOperationResultContract.parse(
      `{"notificationId":"00000000-0000-0000-0000-000000000000","operationId":"${id}","sendResult":"Delivered"}`,
    );

    expect(parsed.notificationId).toBeUndefined();
  });

  it('accepts the empty operation id of a failed send', () => {
    const result: SendOperationResult = {
      notificationId: id,
      operationId: '',
      sendResult: 'Failed_SupressedRecipient',
    };

    expect(SendOperationResultContract.serialize(result)).toBe(
      `{"notificationId":"${id}","operationId":"","sendResult":"Failed_SupressedRecipient"}`,
    );
  });

  it('rejects a result that names neither a notification nor an operation', () => {
    const error = violationOf(() =>
      SendOperationResultContract.validate({ operationId: '', sendResult: 'Failed' }),
    );

    expect(error.issues.map((issue) => issue.path)).toEqual(['notificationId']);
  });

  it('requires operationId and sendResult', () => {
    expect(violatedPaths(() => SendOperationResultContract.validate({ notificationId: id }))).toEqual([
      'operationId',
      'sendResult',
    ]);
  });

  it('keeps the reference misspelling and normalises letter case to it', () => {
    const parsed = SendOperationResultContract.parse(
      `{"NotificationId":"${id.toUpperCase()}","OperationId":"op","SendResult":"failed_supressedrecipient"}`,
    );

    expect(parsed).toEqual({
      notificationId: id,
      operationId: 'op',
      sendResult: 'Failed_SupressedRecipient',
    });
  });

  it('does not accept the corrected spelling as a different value', () => {
    expect(
      violatedPaths(() =>
        SendOperationResultContract.validate({
          notificationId: id,
          operationId: '',
          sendResult: 'Failed_SuppressedRecipient',
        }),
      ),
    ).toEqual(['sendResult']);
  });
});
