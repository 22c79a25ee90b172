// body-parser 2.x ships no types (and @types/body-parser describes 1.x): the one function this app calls.
declare module 'body-parser' {
  import { type IncomingMessage, type ServerResponse } from 'node:http';

  export interface JsonOptions {
    /** Largest body in bytes; 413 beyond it (before reading when Content-Length says so). */
    readonly limit?: number;
    /** Media types parsed, or a predicate; other requests are passed on untouched. */
    readonly type?: readonly string[] | ((request: IncomingMessage) => boolean);
  }

  /** Parses a JSON body into `request.body`; errors are http-errors (400, 413, 415) given to `next`. */
  export function json(
    options?: JsonOptions,
  ): (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;
}
