import { randomUUID } from 'node:crypto';
import { hashUuidWords, readUuidWords, writeUuidWords } from './uuid-words';

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
