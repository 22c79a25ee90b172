const LOWER_CASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Writes a lower-case UUID's 128 bits into `words[offset…offset + 3]`; false (nothing written) for anything
 * else. Tables keyed by UUIDs keep them as four 32-bit words in typed arrays instead of 36-character strings.
 */
export function writeUuidWords(id: string, words: Uint32Array, offset = 0): boolean {
  if (id.length !== 36 || !LOWER_CASE_UUID.test(id)) return false;
  words[offset] = Number.parseInt(id.slice(0, 8), 16);
  words[offset + 1] = Number.parseInt(id.slice(9, 13) + id.slice(14, 18), 16);
  words[offset + 2] = Number.parseInt(id.slice(19, 23) + id.slice(24, 28), 16);
  words[offset + 3] = Number.parseInt(id.slice(28, 36), 16);
  return true;
}

/** The lower-case UUID whose words `writeUuidWords` wrote at `offset`. */
export function readUuidWords(words: Uint32Array, offset = 0): string {
  const hex = (word: number | undefined): string => (word ?? 0).toString(16).padStart(8, '0');
  const a = hex(words[offset]);
  const b = hex(words[offset + 1]);
  const c = hex(words[offset + 2]);
  const d = hex(words[offset + 3]);
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
}

/** Mixes the four words at `offset` into a 32-bit hash (client ids need not be random: sequential GUIDs exist). */
export function hashUuidWords(words: Uint32Array, offset = 0): number {
  let h = Math.imul(words[offset] ?? 0, 0x9e3779b1);
  h = Math.imul(h ^ (words[offset + 1] ?? 0), 0x85ebca6b);
  h = Math.imul(h ^ (words[offset + 2] ?? 0), 0xc2b2ae35);
  h = Math.imul(h ^ (words[offset + 3] ?? 0), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Whether the four words of `words` at `offset` are those of `id` (four words at 0). */
export function sameUuidWords(words: Uint32Array, offset: number, id: Uint32Array): boolean {
  return (
    words[offset] === id[0] &&
    words[offset + 1] === id[1] &&
    words[offset + 2] === id[2] &&
    words[offset + 3] === id[3]
  );
}

/**
 * The tables keyed by UUIDs (operation ids, repeatable request ids) keep their keys as four words per slot in
 * `keys` and find a slot through `index`: open addressing with linear probing, `slot + 1` per bucket, 0 = empty,
 * a power of two in length and at most half full. The slot whose key is `id`, or -1.
 */
export function findUuidSlot(index: Int32Array, keys: Uint32Array, id: Uint32Array): number {
  const mask = index.length - 1;
  for (let bucket = hashUuidWords(id) & mask; ; bucket = (bucket + 1) & mask) {
    const stored = index[bucket] ?? 0;
    if (stored === 0) return -1;
    if (sameUuidWords(keys, (stored - 1) * 4, id)) return stored - 1;
  }
}

/** Enters `slot` (whose key is already in `keys`) into `index` (see findUuidSlot). */
export function placeUuidSlot(index: Int32Array, keys: Uint32Array, slot: number): void {
  const mask = index.length - 1;
  let bucket = hashUuidWords(keys, slot * 4) & mask;
  while ((index[bucket] ?? 0) !== 0) bucket = (bucket + 1) & mask;
  index[bucket] = slot + 1;
}
