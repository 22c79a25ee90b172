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

  delete<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    return this.request('DELETE', path, schema);
  }

  private async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const url = this.url(path);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? (causeOf(error) ?? error.message) : String(error);
      throw new CliError(`${this.app} is not reachable at ${url}: ${reason}`);
    }
    const text = await response.text();
    if (!response.ok) {
      const hint =
        response.status === 401 || response.status === 403
          ? ' (OPS_TOKEN must be an operator token: scope altinn:notifications.operator)'
          : response.status === 404
            ? ' (is this the management listener? ORDERS_MANAGEMENT_URL / EMAIL_SENDER_MANAGEMENT_URL)'
            : '';
      throw new CliError(
        `${this.app} answered ${method} ${url} with ${response.status}: ${problemText(text)}${hint}`,
      );
    }
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(`${this.app} answered ${method} ${url} with something other than JSON`);
    }
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
