import { z } from 'zod';
import { errorMessage } from '../domain/dependency-unavailable.error';
import { chunks } from '../domain/chunks';
import { type OutboundHttpClient, type OutboundResponse } from './outbound-http.client';
import {
  ContactPointUnavailableError,
  type ContactPointService,
  type OrganizationContactPoint,
  type PersonContactPoint,
} from '../domain/contact-point.service';

export interface HttpContactPointOptions {
  /** Base URL of a Profile-compatible API, e.g. `https://platform.altinn.no/profile/api/v1/`. */
  readonly baseUrl: string;
  /** Per request, the answer included. */
  readonly timeoutMs: number;
  /** Identifiers per request. */
  readonly batchSize: number;
  /** Largest answer read. */
  readonly maxResponseBytes: number;
  /** The outbound-request guard every request goes through (docs/security.md). */
  readonly outbound: OutboundHttpClient;
}

// Altinn Profile's response shapes (only what is used; unknown properties are ignored, nulls mean absent).
const nullableString = z
  .string()
  .nullish()
  .transform((value) => (value === null || value === undefined || value === '' ? undefined : value));

const UserContactPointsList = z.object({
  contactPointsList: z.array(
    z.object({
      nationalIdentityNumber: z.string(),
      email: nullableString,
      isReserved: z.boolean().nullish(),
      // Not part of Profile's contract; a compatible register may add it for $recipientName$.
      name: nullableString,
    }),
  ),
});

const OrganizationContactPointsList = z.object({
  contactPointsList: z.array(
    z.object({
      organizationNumber: z.string(),
      emailList: z.array(z.string()).nullish(),
      name: nullableString,
    }),
  ),
});

/**
 * ContactPointService over a Profile-compatible HTTP API:
 * `POST users/contactpoint/lookup` `{"nationalIdentityNumbers": [...]}` and
 * `POST organizations/notificationaddresses/lookup` `{"organizationNumbers": [...]}`.
 * Any failure (refused address, network, timeout, oversized answer, redirect, non-2xx, unexpected body) is
 * reported as ContactPointUnavailableError, so the order is retried rather than sent to the wrong set of
 * recipients. Requests go through the outbound guard: the register must be public or on the allow-list.
 */
export class HttpContactPointClient implements ContactPointService {
  private readonly baseUrl: string;

  constructor(private readonly options: HttpContactPointOptions) {
    this.baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  }

  async lookupPersons(nationalIdentityNumbers: readonly string[]): Promise<PersonContactPoint[]> {
    const found: PersonContactPoint[] = [];
    for (const batch of chunks(nationalIdentityNumbers, this.options.batchSize)) {
      const body = await this.post(
        'users/contactpoint/lookup',
        { nationalIdentityNumbers: batch },
        UserContactPointsList,
      );
      for (const entry of body.contactPointsList) {
        found.push({
          nationalIdentityNumber: entry.nationalIdentityNumber,
          isReserved: entry.isReserved ?? false,
          ...(entry.email === undefined ? {} : { email: entry.email }),
          ...(entry.name === undefined ? {} : { name: entry.name }),
        });
      }
    }
    return found;
  }

  async lookupOrganizations(organizationNumbers: readonly string[]): Promise<OrganizationContactPoint[]> {
    const found: OrganizationContactPoint[] = [];
    for (const batch of chunks(organizationNumbers, this.options.batchSize)) {
      const body = await this.post(
        'organizations/notificationaddresses/lookup',
        { organizationNumbers: batch },
        OrganizationContactPointsList,
      );
      for (const entry of body.contactPointsList) {
        found.push({
          organizationNumber: entry.organizationNumber,
          emails: (entry.emailList ?? []).filter((email) => email.trim() !== ''),
          ...(entry.name === undefined ? {} : { name: entry.name }),
        });
      }
    }
    return found;
  }

  private async post<S extends z.ZodType>(path: string, payload: unknown, schema: S): Promise<z.output<S>> {
    const url = new URL(path, this.baseUrl);
    let response: OutboundResponse;
    try {
      response = await this.options.outbound.request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(payload),
        maxResponseBytes: this.options.maxResponseBytes,
        timeoutMs: this.options.timeoutMs,
      });
    } catch (error) {
      throw new ContactPointUnavailableError(`POST ${url.pathname} failed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    if (response.status < 200 || response.status > 299) {
      throw new ContactPointUnavailableError(`POST ${url.pathname} answered ${response.status}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(response.body.toString('utf8'));
    } catch (error) {
      throw new ContactPointUnavailableError(`POST ${url.pathname} returned invalid JSON`, { cause: error });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ContactPointUnavailableError(
        `POST ${url.pathname} returned an unexpected body: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    return parsed.data;
  }
}
