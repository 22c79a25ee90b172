import { createHash, type Hash } from 'node:crypto';
import { type EmailOrderRequest } from './email-order.request';

/**
 * A stable fingerprint of the validated request (key order and defaults normalised): SHA-256 of its canonical JSON,
 * stored with the order as the idempotency check's `request_hash`, so the canonical form must never change (the
 * spec checks it against the first implementation, and a digest stored before).
 *
 * The canonical JSON is never built as a string: its UTF-8 bytes are written into one reused buffer that is fed to
 * the hash when full. For 100 000 recipients, building it as one string allocated 63 MB, and slices of it built by
 * concatenation still 82 MB (a key array, a key string and a quoted copy of every value per recipient).
 */
export function hashRequest(request: EmailOrderRequest): string {
  const hash = createHash('sha256');
  const writer = new Utf8HashWriter(hash);
  writeStableJson(request, writer);
  writer.flush();
  return hash.digest('hex');
}

// Characters JSON.stringify escapes in a string (quote, backslash, C0 controls) and surrogates (a lone one is
// escaped since ES2019): a string without any is its own JSON text between quotes.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_JSON_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

const BUFFER_BYTES = 64 * 1024;
// UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair, two units, needs 4).
const MAX_UTF8_BYTES_PER_UNIT = 3;

class Utf8HashWriter {
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;

  constructor(private readonly hash: Hash) {}

  /** Appends `text` as UTF-8 (the encoding `hash.update(string)` uses). */
  text(text: string): void {
    const worstCase = text.length * MAX_UTF8_BYTES_PER_UNIT;
    if (this.used + worstCase > BUFFER_BYTES) {
      this.flush();
      if (worstCase > BUFFER_BYTES) {
        this.hash.update(text);
        return;
      }
    }
    this.used += this.buffer.write(text, this.used);
  }

  /** A string as JSON.stringify writes it. */
  string(value: string): void {
    if (NEEDS_JSON_ESCAPING.test(value)) {
      this.text(JSON.stringify(value));
      return;
    }
    this.text('"');
    this.text(value);
    this.text('"');
  }

  flush(): void {
    if (this.used === 0) return;
    // update() copies the bytes before it returns, so the buffer can be reused.
    this.hash.update(this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

/**
 * JSON with object keys sorted (by UTF-16 code units) and undefined properties left out; Dates as their ISO
 * string; everything else as JSON.stringify writes it (undefined as nothing).
 */
function writeStableJson(value: unknown, out: Utf8HashWriter): void {
  if (typeof value === 'string') {
    out.string(value);
  } else if (value instanceof Date) {
    out.string(value.toISOString());
  } else if (Array.isArray(value)) {
    out.text('[');
    for (let index = 0; index < value.length; index += 1) {
      // As Array.prototype.forEach did: a hole is skipped, its comma too.
      if (!(index in value)) continue;
      if (index > 0) out.text(',');
      writeStableJson(value[index], out);
    }
    out.text(']');
  } else if (typeof value === 'object' && value !== null) {
    writeStableObject(value as Record<string, unknown>, out);
  } else {
    out.text(JSON.stringify(value) ?? '');
  }
}

function writeStableObject(record: Record<string, unknown>, out: Utf8HashWriter): void {
  // A recipient has one defined key: it is written without collecting and sorting the keys.
  let only: string | undefined;
  let defined = 0;
  for (const key in record) {
    if (!Object.hasOwn(record, key) || record[key] === undefined) continue;
    defined += 1;
    only = key;
  }
  out.text('{');
  if (defined === 1 && only !== undefined) {
    out.string(only);
    out.text(':');
    writeStableJson(record[only], out);
  } else if (defined > 1) {
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    keys.forEach((key, index) => {
      if (index > 0) out.text(',');
      out.string(key);
      out.text(':');
      writeStableJson(record[key], out);
    });
  }
  out.text('}');
}
