import { AuthError, BearerTokenVerifier } from '@notifications/observability';
import { type AuthSettings } from '../config/orders.config';

export { AuthError, type AuthFailure } from '@notifications/observability';

/** The authenticated caller: the service owner whose orders these are. */
export interface Caller {
  /** The token's `org` claim: the order's creator. */
  readonly org: string;
  readonly scopes: readonly string[];
}

/**
 * Service owners' tokens: the shared bearer-token verification (signature, expiry, issuer, audience, scope) plus
 * what the orders API adds, the `org` claim that owns the orders.
 */
export class JwtVerifier {
  private constructor(private readonly tokens: BearerTokenVerifier) {}

  static create(settings: AuthSettings): JwtVerifier {
    return new JwtVerifier(BearerTokenVerifier.create(settings));
  }

  get keySource(): AuthSettings['key']['kind'] {
    return this.tokens.keySource;
  }

  /** The caller of a request with this `Authorization` header; throws AuthError. */
  async authenticate(authorization: string | undefined): Promise<Caller> {
    const { claims, scopes } = await this.tokens.verify(authorization);
    const org = claims['org'];
    if (typeof org !== 'string' || org.trim() === '') {
      throw new AuthError({ kind: 'forbidden', reason: 'The token has no org claim.' });
    }
    return { org: org.trim(), scopes };
  }
}
