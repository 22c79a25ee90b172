import { createHash } from 'node:crypto';
import { DELIVERY_REPORT_STATUSES, type DeliveryReportStatus, type StatusMix } from './rule.schema';

/**
 * Picks a delivery report status from a mix, deterministically: the same operation id and recipient always get
 * the same status, so a test (or a rerun of a benchmark) sees the same outcome every time.
 */
export function pickStatus(mix: StatusMix, operationId: string, recipient: string): DeliveryReportStatus {
  if (typeof mix === 'string') return mix;
  const weighted = DELIVERY_REPORT_STATUSES.flatMap((status) => {
    const weight = mix[status] ?? 0;
    return weight > 0 ? [{ status, weight }] : [];
  });
  const total = weighted.reduce((sum, { weight }) => sum + weight, 0);
  let point = unitInterval(`${operationId}\n${recipient.toLowerCase()}`) * total;
  for (const { status, weight } of weighted) {
    if (point < weight) return status;
    point -= weight;
  }
  // Only reachable through floating-point rounding at the very top of the range.
  return weighted.at(-1)?.status ?? 'Delivered';
}

/** A number in [0, 1) derived from the text. */
function unitInterval(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}
