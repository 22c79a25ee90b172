/** One item of a Server-Sent Events stream: an event (its id and data) or what else a client may notice. */
export type SseItem =
  | { readonly kind: 'event'; readonly id?: string; readonly data: string }
  | { readonly kind: 'retry'; readonly ms: number }
  | { readonly kind: 'comment'; readonly text: string };

/**
 * Reads a `text/event-stream` body (WHATWG HTML §9.2.6, "Interpreting an event stream") item by item until it
 * ends: lines end with LF, CR LF or CR; a blank line dispatches the event gathered so far (`data:` lines joined by
 * LF; a field's value loses one leading space); lines starting with `:` are comments. Enough for the progress
 * stream (`npm run demo`, `npm run ops -- orders show --watch`, the tests); `event:` names are not used there and are ignored.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseItem> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let id: string | undefined;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let match: RegExpExecArray | null;
      while ((match = /\r\n|\r|\n/.exec(buffer)) !== null) {
        // A CR at the very end may be the first half of CR LF: wait for the next chunk.
        if (match[0] === '\r' && match.index === buffer.length - 1) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (data.length > 0)
            yield { kind: 'event', ...(id === undefined ? {} : { id }), data: data.join('\n') };
          data = [];
          continue;
        }
        if (line.startsWith(':')) {
          yield { kind: 'comment', text: line.slice(1).trim() };
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) yield { kind: 'retry', ms: Number(value) };
      }
    }
  } finally {
    reader.releaseLock();
  }
}
