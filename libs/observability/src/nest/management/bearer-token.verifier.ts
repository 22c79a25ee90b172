import { createPublicKey, type KeyObject } from 'node:crypto';
import { loadOrCreateDevKey, type JwtAuthSettings } from '@notifications/config';
import {
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
  type FetchImplementation,
  type JWTPayload,
} from 'jose';

/** A token whose signature, expiry, issuer, audience and required scope were checked. */
export interface VerifiedToken {
  readonly claims: JWTPayload;
  readonly scopes: readonly string[];
}

export type AuthFailure =
  | { readonly kind: 'unauthenticated'; readonly reason: string; readonly missing?: boolean }
  | { readonly kind: 'forbidden'; readonly reason: string }
  /**
   * The keys could not be fetched (JWKS unreachable, non-200, timeout, not a key set): not the caller's fault, so
   * a 503 with `Retry-After`, never a 401 that would call every caller's token invalid.
   */
  | { readonly kind: 'unavailable'; readonly reason: string; readonly retryAfterSeconds: number };

export class AuthError extends Error {
  constructor(readonly failure: AuthFailure) {
    super(failure.reason);
  }
}

// Asymmetric algorithms only: a shared-secret (HS*) token must never verify against a public key.
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

type KeySource = KeyObject | ReturnType<typeof createRemoteJWKSet>;

const JWKS_TIMEOUT_MS = 5_000;
// jose refetches the key set at most this often; a caller turned away by an outage may retry after it.
const JWKS_COOLDOWN_MS = 30_000;

/** The JWKS endpoint did not deliver a key set. */
class JwksUnavailableError extends Error {}

/**
 * jose's fetch, with every way the key set can fail to arrive turned into JwksUnavailableError, so that an
 * identity-provider outage answers 503 instead of calling every caller's token invalid.
 */
const jwksFetch: FetchImplementation = async (url, options) => {
  let response: Response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new JwksUnavailableError(timedOut ? 'timed out' : 'unreachable', { cause: error });
  }
  if (response.status !== 200) throw new JwksUnavailableError(`answered ${response.status}`);
  try {
    await response.clone().json();
  } catch (error) {
    throw new JwksUnavailableError('answered something that is not JSON', { cause: error });
  }
  return response;
};

/**
 * Verifies bearer JWTs against the configured public key, JWKS URL, or (development only) the local dev key, and
 * checks the required scope: the one verifier behind orders' public API (service owners) and every app's
 * management listener (operators), each with its own settings.
 */
export class BearerTokenVerifier {
  private constructor(
    private readonly key: KeySource,
    readonly settings: JwtAuthSettings,
  ) {}

  static create(settings: JwtAuthSettings): BearerTokenVerifier {
    switch (settings.key.kind) {
      case 'pem':
        return new BearerTokenVerifier(createPublicKey(settings.key.publicKeyPem), settings);
      case 'jwks':
        return new BearerTokenVerifier(
          createRemoteJWKSet(new URL(settings.key.jwksUrl), {
            timeoutDuration: JWKS_TIMEOUT_MS,
            cooldownDuration: JWKS_COOLDOWN_MS,
            [customFetch]: jwksFetch,
          }),
          settings,
        );
      case 'dev':
        return new BearerTokenVerifier(loadOrCreateDevKey(settings.key.devKeyFile).publicKey, settings);
    }
  }

  get keySource(): JwtAuthSettings['key']['kind'] {
    return this.settings.key.kind;
  }

  /** The verified token of a request with this `Authorization` header; throws AuthError. */
  async verify(authorization: string | undefined): Promise<VerifiedToken> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (authorization === undefined || authorization.trim() === '') {
      throw new AuthError({ kind: 'unauthenticated', reason: 'A bearer token is required.', missing: true });
    }
    if (match?.[1] === undefined) {
      throw new AuthError({
        kind: 'unauthenticated',
        reason: 'The Authorization header is not a bearer token.',
      });
    }
    const claims = await this.verifySignature(match[1]);
    const scopes = scopesOf(claims);
    if (!scopes.includes(this.settings.requiredScope)) {
      throw new AuthError({
        kind: 'forbidden',
        reason: `The token lacks the scope ${this.settings.requiredScope}.`,
      });
    }
    return { claims, scopes };
  }

  private async verifySignature(token: string): Promise<JWTPayload> {
    const options = {
      algorithms: ALGORITHMS,
      requiredClaims: ['exp'],
      clockTolerance: this.settings.clockToleranceSeconds,
      ...(this.settings.issuer === undefined ? {} : { issuer: this.settings.issuer }),
      ...(this.settings.audience === undefined ? {} : { audience: this.settings.audience }),
    };
    try {
      const { payload } =
        this.key instanceof Function
          ? await jwtVerify(token, this.key, options)
          : await jwtVerify(token, this.key, options);
      return payload;
    } catch (error) {
      if (error instanceof JwksUnavailableError || error instanceof errors.JWKSInvalid) {
        throw new AuthError({
          kind: 'unavailable',
          reason: `The signing keys could not be fetched (${error instanceof JwksUnavailableError ? error.message : 'not a key set'}).`,
          retryAfterSeconds: JWKS_COOLDOWN_MS / 1000,
        });
      }
      const reason =
        error instanceof errors.JWTExpired
          ? 'The token has expired.'
          : error instanceof errors.JOSEError
            ? `The token is invalid: ${error.message}`
            : 'The token could not be verified.';
      throw new AuthError({ kind: 'unauthenticated', reason });
    }
  }
}

/** `scope` is a space-separated string (OAuth 2.0); `scp` an array in some issuers' tokens. */
function scopesOf(payload: JWTPayload): string[] {
  const scope = payload['scope'];
  const scp = payload['scp'];
  const fromScope = typeof scope === 'string' ? scope.split(/\s+/).filter(Boolean) : [];
  const fromScp = Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string') : [];
  return [...fromScope, ...fromScp];
}

/** RFC 6750 `WWW-Authenticate` for a failure: no error code when the request carried no credentials at all. */
export function wwwAuthenticate(failure: Exclude<AuthFailure, { kind: 'unavailable' }>): string {
  if (failure.kind === 'forbidden') return 'Bearer error="insufficient_scope"';
  return failure.missing === true
    ? 'Bearer'
    : `Bearer error="invalid_token", error_description="${failure.reason.replace(/"/g, "'")}"`;
}
