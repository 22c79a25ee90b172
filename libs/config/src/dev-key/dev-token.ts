import { sign, randomUUID } from 'node:crypto';
import { type DevKey } from './dev-key';

export interface DevTokenClaims {
  /** The `org` claim (a service owner's token); an operator's token has none. */
  readonly org?: string;
  /** Default: `dev:<org>`, or `dev:operator` without an org. */
  readonly subject?: string;
  readonly scopes: readonly string[];
  readonly lifetimeMs: number;
  readonly issuer?: string;
  readonly audience?: string;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/**
 * A compact JWS (EdDSA) with the claims a service owner's or an operator's token carries: `org` (service owners),
 * `scope`, `iat`, `exp`. Signed synchronously with node:crypto (jose's signing is async); verified by jose like
 * any other token.
 */
export function signDevToken(key: DevKey, claims: DevTokenClaims, now = new Date()): string {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const header = { alg: key.algorithm, typ: 'JWT', kid: key.kid };
  const payload = {
    iss: claims.issuer ?? 'notifications-dev-token',
    ...(claims.audience === undefined ? {} : { aud: claims.audience }),
    sub: claims.subject ?? (claims.org === undefined ? 'dev:operator' : `dev:${claims.org}`),
    // Altinn tokens carry the org code in `urn:altinn:org` too.
    ...(claims.org === undefined ? {} : { org: claims.org, 'urn:altinn:org': claims.org }),
    scope: claims.scopes.join(' '),
    iat: issuedAt,
    exp: issuedAt + Math.max(1, Math.round(claims.lifetimeMs / 1000)),
    jti: randomUUID(),
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign(null, Buffer.from(signingInput), key.privateKey);
  return `${signingInput}.${base64url(signature)}`;
}
