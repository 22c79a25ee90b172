import { TRACE_HEADERS, activeTraceHeaders, isTracingActive } from '@notifications/messaging';

/**
 * The active trace context as stored in a `trace_context` column (JSON of the `traceparent`/`tracestate`
 * headers), or null when tracing is off or no span is active.
 */
export function captureTraceContext(): string | null {
  if (!isTracingActive()) return null;
  const headers = activeTraceHeaders();
  return headers === undefined ? null : JSON.stringify(headers);
}

/** The headers a stored trace context stands for; {} when there is none (or it is unreadable). */
export function storedTraceHeaders(stored: string | null | undefined): Record<string, string> {
  if (stored === null || stored === undefined) return {};
  try {
    const parsed = JSON.parse(stored) as Record<string, unknown>;
    const headers: Record<string, string> = {};
    for (const name of TRACE_HEADERS) {
      const value = parsed[name];
      if (typeof value === 'string') headers[name] = value;
    }
    return headers;
  } catch {
    return {};
  }
}
