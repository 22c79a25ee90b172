import { type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { acsEmailOperationUrl, acsSigningKey, signAcsRequest } from '@notifications/acs';
import { STATUS_POLLER_CONFIG, type StatusPollerConfig } from '../config/status-poller.config';
import { interpretOperationResponse, OperationStatusSource, type OperationCheck } from './operation-status';

// Bodies of operation status answers are tiny; anything larger is not an ACS answer.
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * `GET {endpoint}/emails/operations/{operationId}?api-version=…` with the ACS HMAC signature — the same REST call
 * `@azure/communication-email`'s poller makes, without the SDK's poller, so that each check is one request whose
 * `retry-after` and errors this app interprets itself (the SDK's LRO poller would sleep and retry on its own).
 * Keep-alive connections, a bounded number of sockets, and a hard timeout per request.
 */
@Injectable()
export class AcsOperationsClient extends OperationStatusSource implements OnApplicationShutdown {
  private readonly logger = new Logger(AcsOperationsClient.name);
  private readonly endpoint: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  /** The access key decoded once, as a KeyObject (see `signAcsRequest`). */
  private readonly key: KeyObject;

  constructor(@Inject(STATUS_POLLER_CONFIG) private readonly config: StatusPollerConfig) {
    super();
    this.endpoint = new URL(config.acs.endpoint);
    const secure = this.endpoint.protocol === 'https:';
    const options = { keepAlive: true, maxSockets: config.acs.maxConnections };
    this.agent = secure ? new https.Agent(options) : new http.Agent(options);
    this.request = secure ? https.request : http.request;
    this.key = acsSigningKey(config.acs.accessKey);
  }

  onApplicationShutdown(): void {
    this.agent.destroy();
  }

  async getOperationStatus(operationId: string): Promise<OperationCheck> {
    const url = acsEmailOperationUrl(this.endpoint, operationId, this.config.acs.apiVersion);
    try {
      const response = await this.get(url);
      const check = interpretOperationResponse(
        response.statusCode,
        (name) => response.headers[name],
        response.body,
      );
      if (response.statusCode === 401 || response.statusCode === 403) {
        this.logger.error(
          `ACS rejected our credentials (HTTP ${response.statusCode}); check ACS_CONNECTION_STRING. Polling continues until the deadline.`,
        );
      }
      return check;
    } catch (error) {
      return { kind: 'transient', detail: `no answer from ACS: ${(error as Error).message}` };
    }
  }

  private get(url: URL): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
    const signed = signAcsRequest(this.key, 'GET', url);
    return new Promise((resolve, reject) => {
      const req = this.request(
        url,
        {
          method: 'GET',
          agent: this.agent,
          headers: { ...signed, accept: 'application/json' },
          signal: AbortSignal.timeout(this.config.acs.requestTimeoutMs),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              statusCode: res.statusCode ?? 0,
              headers,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}
