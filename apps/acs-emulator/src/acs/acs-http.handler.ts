import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOCK, type Clock } from '../common/clock';
import { EMULATOR_CONFIG, type EmulatorConfig } from '../config/emulator.config';
import { RequestStats, type PollOutcome, type SendOutcome } from '../store/request-stats';
import { acsErrorBody, type AcsError } from './acs-error';
import { emailMessageSchema } from './email-message.schema';
import { EmailService, type EmailSendResult } from './email.service';
import { HmacAuthenticator } from './hmac-authenticator';
import { RepeatableRequests, type RecordedReply } from './repeatable-requests';
import { SendSettings } from './send-settings';

/** ACS limits the whole send request, attachments included, to 10 MB. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

const SEND_PATH = '/emails:send';
const OPERATIONS_PREFIX = '/emails/operations/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Next = (error?: unknown) => void;

/**
 * The ACS data plane (`POST /emails:send`, `GET /emails/operations/{id}`) on plain Node request/response
 * objects, mounted in front of Nest's router: the HMAC check needs the exact body bytes, errors must have the ACS
 * shape rather than Nest's, `:send` is not a route-pattern parameter, and a scripted "dropped connection" must
 * destroy the socket without any framework writing a response first.
 */
@Injectable()
export class AcsHttpHandler {
  private readonly logger = new Logger('AcsEmulator');
  private readonly authenticator: HmacAuthenticator;

  constructor(
    @Inject(EMULATOR_CONFIG) private readonly config: EmulatorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly emails: EmailService,
    private readonly repeatable: RepeatableRequests,
    private readonly settings: SendSettings,
    private readonly stats: RequestStats,
  ) {
    this.authenticator = new HmacAuthenticator(config.acs.accessKey, config.acs.maxDateSkewMs, clock);
  }

  /** Express-style middleware: answers ACS routes, passes everything else on. */
  readonly middleware = (request: IncomingMessage, response: ServerResponse, next: Next): void => {
    const target = request.url ?? '/';
    const queryStart = target.indexOf('?');
    // The SDK joins `endpoint` and the path, so an endpoint ending in "/" yields `//emails:send`.
    const path = (queryStart === -1 ? target : target.slice(0, queryStart)).replace(/^\/{2,}/, '/');
    if (path === SEND_PATH) {
      this.guard(response, this.handleSend(request, response, target));
    } else if (path.startsWith(OPERATIONS_PREFIX)) {
      this.guard(response, this.handlePoll(request, response, target, path.slice(OPERATIONS_PREFIX.length)));
    } else {
      next();
    }
  };

  private guard(response: ServerResponse, work: Promise<void>): void {
    work.catch((error: unknown) => {
      this.logger.error(
        `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      if (!response.headersSent && !response.destroyed) {
        this.sendError(response, {
          status: 500,
          code: 'InternalServerError',
          message: 'Unexpected emulator error.',
        });
      }
    });
  }

  private async handleSend(
    request: IncomingMessage,
    response: ServerResponse,
    target: string,
  ): Promise<void> {
    const finish = (outcome: SendOutcome, status: number | 'dropped') => {
      this.stats.recordSend(outcome);
      if (this.config.acs.logRequests) this.logger.log(`POST ${target} → ${status} (${outcome})`);
    };
    if (request.method !== 'POST') {
      this.sendError(response, methodNotAllowed(request.method));
      return;
    }
    const body = await readBody(request, MAX_REQUEST_BYTES);
    if (body === 'tooLarge') {
      finish('payloadTooLarge', 413);
      this.sendError(
        response,
        { status: 413, code: 'PayloadTooLarge', message: 'The request exceeds the 10 MB limit.' },
        { Connection: 'close' },
      );
      return;
    }
    const auth = this.authenticator.verify({
      method: 'POST',
      pathAndQuery: target,
      headers: request.headers,
      body,
    });
    if (!auth.ok) {
      finish('unauthorized', 401);
      this.sendError(response, denied(auth.reason));
      return;
    }
    const operationId = headerValue(request, 'operation-id');
    const decision = this.repeatable.decide(
      {
        requestId: headerValue(request, 'repeatability-request-id'),
        firstSent: headerValue(request, 'repeatability-first-sent'),
      },
      { operationId: operationId?.toLowerCase(), contentSha256: auth.contentSha256 },
      this.clock.now(),
    );
    switch (decision.kind) {
      case 'refuse':
        finish(decision.outcome, decision.error.status);
        this.sendError(response, decision.error);
        return;
      case 'replay':
        finish('repeatReplayed', decision.reply.status);
        this.sendJson(response, decision.reply.status, decision.reply.body, decision.reply.headers);
        return;
      case 'notRepeatable':
      case 'execute':
        break;
    }
    const tracked = decision.kind === 'execute' ? decision.tracked : undefined;
    let answer: SendAnswer;
    try {
      answer = await this.executeSend(request, target, body, operationId);
    } catch (error) {
      tracked?.abandon();
      throw error;
    }
    finish(answer.outcome, answer.kind === 'drop' ? 'dropped' : answer.reply.status);
    if (answer.kind === 'drop') {
      // Accepted and then dropped: the operation exists, so a repeat gets the 202 the client never saw.
      if (answer.accepted === undefined) tracked?.abandon();
      else tracked?.complete(answer.accepted);
      request.socket.destroy();
      return;
    }
    tracked?.complete(answer.reply);
    this.sendJson(response, answer.reply.status, answer.reply.body, answer.reply.headers);
  }

  /** Validates and performs one send; the answer is data, so that a repeatable request can record it. */
  private async executeSend(
    request: IncomingMessage,
    target: string,
    body: Buffer,
    operationId: string | undefined,
  ): Promise<SendAnswer> {
    const badRequest = (message: string, code = 'BadRequest'): SendAnswer =>
      errorAnswer('badRequest', { status: 400, code, message });
    const apiVersion = apiVersionOf(target);
    if (apiVersion === undefined)
      return badRequest('The api-version query parameter is required.', 'MissingApiVersionParameter');
    if (operationId !== undefined && !UUID.test(operationId))
      return badRequest(`The Operation-Id header must be a GUID, got '${operationId}'.`);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return badRequest('The request body is not valid JSON.');
    }
    const parsed = emailMessageSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      return badRequest(`Invalid request body. ${where}${issue?.message ?? 'invalid'}`);
    }

    const clientRequestId = headerValue(request, 'x-ms-client-request-id');
    const result = await this.emails.send({
      message: parsed.data,
      ...(operationId === undefined ? {} : { operationId: operationId.toLowerCase() }),
      ...(clientRequestId === undefined ? {} : { clientRequestId }),
    });
    switch (result.kind) {
      case 'drop':
        return { kind: 'drop', outcome: 'dropped', accepted: undefined };
      case 'error':
        return errorAnswer(result.outcome, result.error);
      case 'accepted': {
        const reply: RecordedReply = {
          status: 202,
          body: result.result,
          headers: {
            'Operation-Location': `http://${request.headers.host ?? '127.0.0.1'}${OPERATIONS_PREFIX}${result.result.id}?api-version=${encodeURIComponent(apiVersion)}`,
            ...this.retryAfter(result.result),
          },
        };
        if (result.dropConnection) return { kind: 'drop', outcome: 'dropped', accepted: reply };
        return { kind: 'answer', outcome: result.replayed ? 'replayed' : 'accepted', reply };
      }
    }
  }

  private async handlePoll(
    request: IncomingMessage,
    response: ServerResponse,
    target: string,
    rawId: string,
  ): Promise<void> {
    const finish = (outcome: PollOutcome, status: number) => {
      this.stats.recordPoll(outcome);
      if (this.config.acs.logRequests) this.logger.log(`GET ${target} → ${status}`);
    };
    if (request.method !== 'GET') {
      this.sendError(response, methodNotAllowed(request.method));
      return;
    }
    const body = await readBody(request, MAX_REQUEST_BYTES);
    if (body === 'tooLarge') {
      this.sendError(
        response,
        { status: 413, code: 'PayloadTooLarge', message: 'Too large.' },
        { Connection: 'close' },
      );
      return;
    }
    const auth = this.authenticator.verify({
      method: 'GET',
      pathAndQuery: target,
      headers: request.headers,
      body,
    });
    if (!auth.ok) {
      finish('unauthorized', 401);
      this.sendError(response, denied(auth.reason));
      return;
    }
    if (apiVersionOf(target) === undefined) {
      finish('badRequest', 400);
      this.sendError(response, {
        status: 400,
        code: 'MissingApiVersionParameter',
        message: 'The api-version query parameter is required.',
      });
      return;
    }
    const operationId = safeDecode(rawId).toLowerCase();
    const result = this.emails.poll(operationId);
    if (result.kind === 'notFound') {
      finish('notFound', 404);
      this.sendError(response, {
        status: 404,
        code: 'NotFound',
        message: `No email send operation with id '${operationId}' was found.`,
      });
      return;
    }
    finish('ok', 200);
    this.sendJson(response, 200, result.result, this.retryAfter(result.result));
  }

  private retryAfter(result: EmailSendResult): Record<string, string> {
    const terminal =
      result.status === 'Succeeded' || result.status === 'Failed' || result.status === 'Canceled';
    // Seconds, per the REST API; only while the operation is not terminal.
    return terminal ? {} : { 'retry-after': String(this.settings.pollRetryAfterSeconds) };
  }

  private sendError(
    response: ServerResponse,
    error: AcsError,
    extraHeaders: Record<string, string> = {},
  ): void {
    const reply = errorReply(error);
    this.sendJson(response, reply.status, reply.body, { ...reply.headers, ...extraHeaders });
  }

  private sendJson(
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string>,
  ): void {
    if (response.destroyed || response.headersSent) return;
    const payload = JSON.stringify(body);
    const clientRequestId = headerValue(response.req, 'x-ms-client-request-id');
    response.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(payload)),
      'x-ms-request-id': randomUUID(),
      ...(clientRequestId === undefined ? {} : { 'x-ms-client-request-id': clientRequestId }),
      ...headers,
    });
    response.end(payload);
  }
}

/** How a send ended: an answer to write (and to record for repeats), or a connection to drop. */
type SendAnswer =
  | { readonly kind: 'answer'; readonly outcome: SendOutcome; readonly reply: RecordedReply }
  | { readonly kind: 'drop'; readonly outcome: 'dropped'; readonly accepted: RecordedReply | undefined };

function errorReply(error: AcsError): RecordedReply {
  return {
    status: error.status,
    body: acsErrorBody(error),
    headers: {
      'x-ms-error-code': error.code,
      ...(error.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(error.retryAfterSeconds) }),
    },
  };
}

function errorAnswer(outcome: SendOutcome, error: AcsError): SendAnswer {
  return { kind: 'answer', outcome, reply: errorReply(error) };
}

function denied(reason: string): AcsError {
  return { status: 401, code: 'Denied', message: `Denied by the resource provider: ${reason}.` };
}

function methodNotAllowed(method: string | undefined): AcsError {
  return { status: 405, code: 'MethodNotAllowed', message: `Method ${method ?? '?'} is not allowed here.` };
}

function apiVersionOf(target: string): string | undefined {
  const queryStart = target.indexOf('?');
  if (queryStart === -1) return undefined;
  const value = new URLSearchParams(target.slice(queryStart + 1)).get('api-version');
  return value === null || value.trim() === '' ? undefined : value;
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const EMPTY_BODY = Promise.resolve(Buffer.alloc(0));

/** The whole body, or 'tooLarge' as soon as it exceeds `limit` bytes (the rest is discarded, not buffered). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'tooLarge'> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    request.resume();
    return Promise.resolve('tooLarge');
  }
  // Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body (RFC 9112 section 6.3), as every
  // poll: nothing to wait for. Node discards anything unread when the response ends.
  if (declared === 0 && request.headers['transfer-encoding'] === undefined) return EMPTY_BODY;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? 'tooLarge' : Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}
