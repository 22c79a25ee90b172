import { readServerSentEvents, type SseItem } from '@notifications/contracts';
import { type z } from 'zod';
import { CliError } from '../cli/cli-error';

/**
 * Calls one app's operator endpoints on its management listener, with an operator's bearer token, and parses the
 * answer with the app's own schema (libs/contracts, internal-api); any failure — unreachable, an error status, a
 * body the schema refuses — becomes a one-line CliError naming the app and URL.
 */
export class InternalApiClient {
  constructor(
    /** For messages: `orders`, `email-sender`. */
    readonly app: string,
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  get<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    return this.request('GET', path, schema);
  }

  post<S extends z.ZodType>(path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    return this.request('POST', path, schema, body);
  }

  put<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    return this.request('PUT', path, schema);
  }

  delete<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    return this.request('DELETE', path, schema);
  }

  /**
   * Follows a Server-Sent Events stream (`Accept: text/event-stream`): yields the server's `retry:` and each event
   * with its data parsed by `schema`, until the server ends the stream, or `signal` aborts (then it returns
   * quietly). Only connecting is bounded by OPS_HTTP_TIMEOUT: a stream lasts as long as what it follows.
   */
  async *events<S extends z.ZodType>(
    path: string,
    schema: S,
    options: { readonly lastEventId?: string; readonly signal: AbortSignal },
  ): AsyncGenerator<
    | { readonly kind: 'event'; readonly id?: string; readonly data: z.output<S> }
    | Extract<SseItem, { kind: 'retry' }>
  > {
    const url = this.url(path);
    const connection = new AbortController();
    const abort = (): void => connection.abort();
    options.signal.addEventListener('abort', abort, { once: true });
    const connecting = setTimeout(
      () => connection.abort(new Error(`no answer within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    try {
      const response = await this.send('GET', url, {
        accept: 'text/event-stream',
        ...(options.lastEventId === undefined ? {} : { 'last-event-id': options.lastEventId }),
        signal: connection.signal,
      }).finally(() => clearTimeout(connecting));
      if (response.body === null) return;
      for await (const item of readServerSentEvents(response.body)) {
        if (item.kind === 'retry') yield item;
        else if (item.kind === 'event') {
          let json: unknown;
          try {
            json = JSON.parse(item.data);
          } catch {
            throw new CliError(`${this.app} sent an event on ${url} that is not JSON`);
          }
          yield {
            kind: 'event',
            ...(item.id === undefined ? {} : { id: item.id }),
            data: this.parse('GET', url, json, schema),
          };
        }
      }
    } catch (error) {
      if (options.signal.aborted) return;
      if (error instanceof CliError) throw error;
      const reason = error instanceof Error ? (causeOf(error) ?? error.message) : String(error);
      throw new CliError(`${this.app}'s stream ${url} broke: ${reason}`);
    } finally {
      options.signal.removeEventListener('abort', abort);
      // Ends the connection when the caller stops early (a final snapshot, an error, Ctrl-C).
      connection.abort();
    }
  }

  private async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const url = this.url(path);
    const response = await this.send(method, url, {
      accept: 'application/json',
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(`${this.app} answered ${method} ${url} with something other than JSON`);
    }
    return this.parse(method, url, json, schema);
  }

  /** The response, when its status is a success; else (or unreachable) a CliError. */
  private async send(
    method: string,
    url: string,
    options: { accept: string; body?: unknown; 'last-event-id'?: string; signal: AbortSignal },
  ): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: options.accept,
          authorization: `Bearer ${this.token}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options['last-event-id'] === undefined ? {} : { 'last-event-id': options['last-event-id'] }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: options.signal,
      });
    } catch (error) {
      const reason = error instanceof Error ? (causeOf(error) ?? error.message) : String(error);
      throw new CliError(`${this.app} is not reachable at ${url}: ${reason}`);
    }
    if (response.ok) return response;
    const detail = problemText(await response.text());
    // Nest answers a route it does not have (the public listener hides the management routes the same way) with
    // `Cannot <method> <path>`; any other 404 is the app's own (no such order) and needs no hint.
    const hint =
      response.status === 401 || response.status === 403
        ? ' (OPS_TOKEN must be an operator token: scope altinn:notifications.operator)'
        : response.status === 404 && detail.startsWith('Cannot ')
          ? ' (is this the management listener? ORDERS_MANAGEMENT_URL / EMAIL_SENDER_MANAGEMENT_URL)'
          : '';
    throw new CliError(`${this.app} answered ${method} ${url} with ${response.status}: ${detail}${hint}`);
  }

  private parse<S extends z.ZodType>(method: string, url: string, json: unknown, schema: S): z.output<S> {
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
      );
      throw new CliError(
        `${this.app} answered ${method} ${url} with an unexpected body (${issues.join('; ')}); is it the same version as this CLI?`,
      );
    }
    return parsed.data;
  }
}

function causeOf(error: Error): string | undefined {
  const cause: unknown = error.cause;
  if (cause instanceof Error) return cause.message || (cause as { code?: string }).code;
  return undefined;
}

/** The `detail`/`title` of a problem document, else the start of the body. */
function problemText(text: string): string {
  try {
    const problem = JSON.parse(text) as { detail?: unknown; title?: unknown; message?: unknown };
    const detail = problem.detail ?? problem.message ?? problem.title;
    if (typeof detail === 'string') return detail;
  } catch {
    // Not JSON: show the text itself.
  }
  return text.slice(0, 200) || '(no body)';
}
