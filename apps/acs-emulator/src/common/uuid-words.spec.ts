import { randomUUID } from 'node:crypto';
import {
  findUuidSlot,
  hashUuidWords,
  placeUuidSlot,
  readUuidWords,
  sameUuidWords,
  writeUuidWords,
} from './uuid-words';

describe('writeUuidWords', () => {
  it('round-trips lower-case UUIDs through four words, at any offset', () => {
    const words = new Uint32Array(8);
    for (const id of [
      randomUUID(),
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
    ]) {
      expect(writeUuidWords(id, words, 4)).toBe(true);
      expect(readUuidWords(words, 4)).toBe(id);
    }
  });

  it('refuses anything but a lower-case UUID, writing nothing', () => {
    const words = new Uint32Array(4).fill(7);
    for (const id of [randomUUID().toUpperCase(), 'not-a-uuid', `${randomUUID()}0`, ''])
      expect(writeUuidWords(id, words)).toBe(false);
    expect([...words]).toEqual([7, 7, 7, 7]);
  });

  it('hashes equal ids alike wherever they are stored', () => {
    const id = randomUUID();
    const a = new Uint32Array(4);
    const b = new Uint32Array(12);
    writeUuidWords(id, a);
    writeUuidWords(id, b, 8);
    expect(hashUuidWords(a)).toBe(hashUuidWords(b, 8));
  });
});

describe('findUuidSlot / placeUuidSlot', () => {
  it('finds every placed id at its slot, through collisions in a small index, and -1 for an absent one', () => {
    const slots = 16;
    const keys = new Uint32Array(slots * 4);
    // A small index: probes run into each other.
    const index = new Int32Array(32);
    const ids = Array.from({ length: slots }, () => randomUUID());
    ids.forEach((id, slot) => {
      writeUuidWords(id, keys, slot * 4);
      placeUuidSlot(index, keys, slot);
    });
    const probe = new Uint32Array(4);
    ids.forEach((id, slot) => {
      writeUuidWords(id, probe);
      expect(findUuidSlot(index, keys, probe)).toBe(slot);
      expect(sameUuidWords(keys, slot * 4, probe)).toBe(true);
    });
    writeUuidWords(randomUUID(), probe);
    expect(findUuidSlot(index, keys, probe)).toBe(-1);
    expect(sameUuidWords(keys, 0, probe)).toBe(false);
  });
});
