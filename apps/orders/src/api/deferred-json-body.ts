import { type IncomingMessage, type ServerResponse } from 'node:http';
import { json } from 'body-parser';
import { type HttpRequest, type HttpResponse } from './http-types';

type Middleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

// The media types the app parses as JSON (what Nest's `useBodyParser('json')` was given).
const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * The app's JSON body parser, except for the routes in `deferredPaths` (`POST`): their body is read by the handler
 * with `readDeferredJsonBody`, after the bearer token was verified and the intake gate admitted it — a stranger's
 * body is never buffered. Paths compare as Express routes them (letter case ignored, trailing slashes too).
 */
export function jsonBodyParserExcept(bodyLimitBytes: number, deferredPaths: readonly string[]): Middleware {
  const parse = json({ limit: bodyLimitBytes, type: JSON_TYPES });
  const deferred = new Set(deferredPaths.map(normalisePath));
  return (request, response, next) => {
    if (request.method === 'POST' && deferred.has(normalisePath(request.url ?? ''))) {
      next();
      return;
    }
    parse(request, response, next);
  };
}

function normalisePath(url: string): string {
  return (url.split('?')[0] ?? '').toLowerCase().replace(/\/+$/, '');
}

/**
 * Reads and parses a deferred JSON body with the same parser (limit, charsets, Content-Encoding, errors) as every
 * other route; undefined when the request has no body. The caller checked the media type.
 */
export function deferredJsonBodyReader(
  bodyLimitBytes: number,
): (request: HttpRequest, response: HttpResponse) => Promise<unknown> {
  const parse = json({ limit: bodyLimitBytes, type: () => true });
  return (request, response) =>
    new Promise((resolve, reject) => {
      // Nest over Express: the request and response are Node's, which HttpRequest and HttpResponse describe in part.
      const incoming = request as unknown as IncomingMessage & { readonly body?: unknown };
      parse(incoming, response as unknown as ServerResponse, (error) => {
        if (error === undefined) resolve(incoming.body);
        else reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
}
