import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Params } from 'nestjs-pino';
import { type Logger as PinoRootLogger } from 'pino';
import { maskSecrets } from '../lib/logging/log-redaction';

const QUIET_PATHS = /^\/(health\/|metrics$|status$)/;

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?', 1)[0] ?? '/';
  return path;
}

/**
 * nestjs-pino / pino-http settings every app shares: the app's root logger, a request id (the caller's
 * `x-request-id` when sent), a short request record (method and URL with credentials masked; never headers or
 * bodies), and no automatic lines for probes and scrapes.
 */
export function pinoHttpParams(logger: PinoRootLogger, httpRequests = true): Params {
  return {
    pinoHttp: {
      logger,
      quietReqLogger: true,
      autoLogging: httpRequests ? { ignore: (req) => QUIET_PATHS.test(pathOf(req.url)) } : false,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          url: maskSecrets(req.url ?? ''),
        }),
        // pino-http's wrapper says null until headers are out; the raw response knows the status either way.
        res: (res: { statusCode?: number | null; raw?: { statusCode?: number } }) => ({
          statusCode: res.statusCode ?? res.raw?.statusCode,
        }),
      },
    },
  };
}
