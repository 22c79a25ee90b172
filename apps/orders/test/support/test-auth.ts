import { generateKeyPairSync } from 'node:crypto';
import { type DevKey } from '../../src/auth/dev-key';
import { signDevToken } from '../../src/auth/dev-token';
import { NOTIFICATIONS_CREATE_SCOPE } from '../../src/config/orders.config';

/** A signing key for one test suite; the app under test trusts its public key (AUTH_JWT_PUBLIC_KEY). */
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
}
