/**
 * What has been replayed from one dead-letter partition, stored as the replay consumer group's committed offset
 * (`watermark`: every record below it was replayed or is gone) plus, in the commit's metadata string, the
 * offsets at or above it replayed by filtered replays (`replayed`, as ranges such as `12-15,19`).
 */
export interface ReplayRecord {
  readonly watermark: number;
  readonly replayed: ReadonlySet<number>;
}

const METADATA_PREFIX = 'ops-replay/v1:';

// Kafka's default `offset.metadata.max.bytes` is 4096; leave room below it.
export const MAX_METADATA_LENGTH = 4_000;

/** The record from a committed offset (`-1` = none) and its metadata. Unknown metadata is ignored. */
export function decodeReplayRecord(committedOffset: string | number, metadata: string | null): ReplayRecord {
  const committed = Number(committedOffset);
  const watermark = Number.isSafeInteger(committed) && committed > 0 ? committed : 0;
  const replayed = new Set<number>();
  if (metadata?.startsWith(METADATA_PREFIX)) {
    for (const part of metadata.slice(METADATA_PREFIX.length).split(',')) {
      const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
      if (!match) continue;
      const first = Number(match[1]);
      const last = match[2] === undefined ? first : Number(match[2]);
      for (let offset = first; offset <= last && offset - first < 1_000_000; offset += 1) {
        if (offset >= watermark) replayed.add(offset);
      }
    }
  }
  return normalise({ watermark, replayed });
}

export function encodeReplayMetadata(record: ReplayRecord): string {
  const offsets = [...record.replayed].filter((offset) => offset >= record.watermark).sort((a, b) => a - b);
  const ranges: string[] = [];
  let index = 0;
  while (index < offsets.length) {
    const first = offsets[index] as number;
    let last = first;
    while (offsets[index + 1] === last + 1) {
      index += 1;
      last += 1;
    }
    ranges.push(first === last ? String(first) : `${first}-${last}`);
    index += 1;
  }
  return `${METADATA_PREFIX}${ranges.join(',')}`;
}

export function isReplayed(record: ReplayRecord, offset: number): boolean {
  return offset < record.watermark || record.replayed.has(offset);
}

/** Moves the watermark over replayed offsets directly above it. */
export function normalise(record: ReplayRecord): ReplayRecord {
  let watermark = record.watermark;
  while (record.replayed.has(watermark)) watermark += 1;
  return {
    watermark,
    replayed: new Set([...record.replayed].filter((offset) => offset >= watermark)),
  };
}

/**
 * The record after a replay: `replayed` offsets are added; `readThrough`, when given, says that every record
 * from the old watermark up to (excluding) it was read in order and replayed (now or before), so the watermark
 * may move there even across offsets that do not exist (deleted or compacted records).
 */
export function advance(
  record: ReplayRecord,
  replayed: Iterable<number>,
  readThrough: number | undefined,
): ReplayRecord {
  const watermark = Math.max(record.watermark, readThrough ?? 0);
  return normalise({ watermark, replayed: new Set([...record.replayed, ...replayed]) });
}
