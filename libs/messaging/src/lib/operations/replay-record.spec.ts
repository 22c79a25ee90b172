import { advance, decodeReplayRecord, encodeReplayMetadata, isReplayed } from './replay-record';

describe('replay record', () => {
  it('starts empty without a committed offset', () => {
    const record = decodeReplayRecord('-1', null);
    expect(record.watermark).toBe(0);
    expect(isReplayed(record, 0)).toBe(false);
  });

  it('round-trips scattered replayed offsets as ranges above the watermark', () => {
    const record = advance(decodeReplayRecord(5, null), [9, 10, 11, 14, 3], undefined);
    expect(record.watermark).toBe(5);
    expect(encodeReplayMetadata(record)).toBe('ops-replay/v1:9-11,14');
    const decoded = decodeReplayRecord(5, encodeReplayMetadata(record));
    expect([...decoded.replayed].sort((a, b) => a - b)).toEqual([9, 10, 11, 14]);
    expect([4, 9, 11, 14].map((offset) => isReplayed(decoded, offset))).toEqual([true, true, true, true]);
    expect([5, 12, 15].map((offset) => isReplayed(decoded, offset))).toEqual([false, false, false]);
  });

  it('moves the watermark over replayed offsets directly above it', () => {
    const record = advance(decodeReplayRecord(5, 'ops-replay/v1:7-8'), [5, 6], undefined);
    expect(record.watermark).toBe(9);
    expect(record.replayed.size).toBe(0);
  });

  it('moves the watermark to where everything was read in order', () => {
    const record = advance(decodeReplayRecord(2, 'ops-replay/v1:20'), [], 12);
    expect(record.watermark).toBe(12);
    expect([...record.replayed]).toEqual([20]);
  });

  it('ignores metadata it did not write', () => {
    expect(decodeReplayRecord(3, 'something else').replayed.size).toBe(0);
  });
});
