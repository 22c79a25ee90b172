// The parts of Express's request and response this app uses. (@types/express is not a dependency of the
// workspace; these structural types keep the code typed without it.)

export interface HttpRequest {
  readonly method: string;
  readonly originalUrl: string;
  readonly path: string;
  readonly protocol: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
  get(name: string): string | undefined;
}

export interface HttpResponse {
  readonly headersSent: boolean;
  status(code: number): HttpResponse;
  setHeader(name: string, value: string): HttpResponse;
  type(contentType: string): HttpResponse;
  send(body: string): HttpResponse;
  json(body: unknown): HttpResponse;
  once(event: 'close', listener: () => void): unknown;
}
