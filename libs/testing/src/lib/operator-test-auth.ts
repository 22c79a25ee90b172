import { generateKeyPairSync } from 'node:crypto';
import { OPERATOR_SCOPE, signDevToken, type DevKey } from '@notifications/config';

/**
 * A throw-away operator signing key for one suite: put `env` into the app's environment (it then trusts this key
 * on its management listener) and send `token()` as the bearer token of management requests.
 */
export class OperatorTestAuth {
  readonly key: DevKey;
  readonly publicKeyPem: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.key = { kid: 'operator-test', algorithm: 'EdDSA', privateKey, publicKey };
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** What the app needs to trust this key for operators. */
  get env(): Record<string, string> {
    return { OPERATOR_AUTH_JWT_PUBLIC_KEY: this.publicKeyPem };
  }

  /** A token with the operator scope (or the given scopes), valid for an hour. */
  token(scopes: readonly string[] = [OPERATOR_SCOPE]): string {
    return signDevToken(this.key, { scopes, lifetimeMs: 3_600_000 });
  }

  /** `{ authorization: 'Bearer …' }` for fetch. */
  headers(scopes?: readonly string[]): Record<string, string> {
    return { authorization: `Bearer ${this.token(scopes)}` };
  }
}
