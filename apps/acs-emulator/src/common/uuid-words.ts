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
