import { generateKeyPairSync } from 'node:crypto';
import { OPERATOR_SCOPE, signDevToken, type DevKey } from '@notifications/config';
import { NOTIFICATIONS_CREATE_SCOPE } from '../../src/config/orders.config';

/**
 * A signing key for one test suite; the app under test trusts its public key for service owners
 * (AUTH_JWT_PUBLIC_KEY) and operators (OPERATOR_AUTH_JWT_PUBLIC_KEY).
 */
export class TestAuth {
  readonly key: DevKey;
  readonly publicKeyPem: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.key = { kid: 'test', algorithm: 'EdDSA', privateKey, publicKey };
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  token(org: string, options: { scopes?: string[]; lifetimeMs?: number; now?: Date } = {}): string {
    return signDevToken(
      this.key,
      {
        org,
        scopes: options.scopes ?? [NOTIFICATIONS_CREATE_SCOPE],
        lifetimeMs: options.lifetimeMs ?? 3_600_000,
      },
      options.now,
    );
  }

  /** An operator's token (management listener): no org, the operator scope unless `scopes` says otherwise. */
  operatorToken(options: { scopes?: string[] } = {}): string {
    return signDevToken(this.key, { scopes: options.scopes ?? [OPERATOR_SCOPE], lifetimeMs: 3_600_000 });
  }
}
