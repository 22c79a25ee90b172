import {
  SendNotificationOperationIdentifierContract,
  SendOperationResultContract,
  type SendOperationResult,
} from '@notifications/contracts';
import { type ObservedRecord } from './kafka';

/** An `email.sending.accepted` record as the sender writes it (key = notification id, no headers). */
export function acceptedRecord(
  id: string,
  lastStatusCheck: number,
  headers: Record<string, string> = {},
): { key: string; value: string; headers: Record<string, string> } {
  return {
    key: id,
    value: SendNotificationOperationIdentifierContract.serialize({
      notificationId: id,
      operationId: id,
      lastStatusCheck: new Date(lastStatusCheck).toISOString(),
    }),
    headers,
  };
}

export interface ObservedResult extends SendOperationResult {
  readonly record: ObservedRecord;
}

export function resultsOf(records: readonly ObservedRecord[], topic: string): ObservedResult[] {
  return records
    .filter((record) => record.topic === topic)
    .map((record) => ({ ...SendOperationResultContract.parse(record.value), record }));
}

export function resultFields(result: ObservedResult): SendOperationResult {
  const { record: _record, ...fields } = result;
  return fields;
}
