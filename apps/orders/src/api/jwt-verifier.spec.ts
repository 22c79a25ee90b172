import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrdersConfig, type AuthSettings } from '../config/orders.config';
import { loadOrCreateDevKey, signDevToken, type DevKey } from '@notifications/config';
import { AuthError, JwtVerifier } from './jwt-verifier';

const SCOPE = 'altinn:serviceowner/notifications.create';

function newKey(): DevKey & { pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    kid: 'k1',
    algorithm: 'EdDSA',
    privateKey,
    publicKey,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function settingsFor(pem: string, extra: Record<string, string> = {}): AuthSettings {
  return loadOrdersConfig({ AUTH_JWT_PUBLIC_KEY: pem, ...extra }).auth;
}

async function failure(verifier: JwtVerifier, header: string | undefined): Promise<AuthError['failure']> {
  try {
    await verifier.authenticate(header);
  } catch (error) {
    if (error instanceof AuthError) return error.failure;
    throw error;
  }
  throw new Error('expected an AuthError');
}

describe(JwtVerifier.name, () => {
  const key = newKey();
  const verifier = JwtVerifier.create(settingsFor(key.pem));

  it('authenticates a valid token: the org claim is the caller', async () => {
    const token = signDevToken(key, { org: 'ttd', scopes: ['other', SCOPE], lifetimeMs: 60_000 });
    await expect(verifier.authenticate(`Bearer ${token}`)).resolves.toEqual({
      org: 'ttd',
      scopes: ['other', SCOPE],
    });
  });

  it('is unauthenticated without a token, with a malformed or expired token, or one of another key', async () => {
    expect(await failure(verifier, undefined)).toMatchObject({ kind: 'unauthenticated', missing: true });
    expect(await failure(verifier, 'Basic abc')).toMatchObject({ kind: 'unauthenticated' });
    expect(await failure(verifier, 'Bearer abc.def.ghi')).toMatchObject({ kind: 'unauthenticated' });
    const expired = signDevToken(
      key,
      { org: 'ttd', scopes: [SCOPE], lifetimeMs: 1_000 },
      new Date(Date.now() - 120_000),
    );
    expect(await failure(verifier, `Bearer ${expired}`)).toEqual({
      kind: 'unauthenticated',
      reason: 'The token has expired.',
    });
    const foreign = signDevToken(newKey(), { org: 'ttd', scopes: [SCOPE], lifetimeMs: 60_000 });
    expect(await failure(verifier, `Bearer ${foreign}`)).toMatchObject({ kind: 'unauthenticated' });
  });

  it('refuses a shared-secret (HS256) token even when the secret is the public key', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ org: 'ttd', scope: SCOPE, exp: Date.now() / 1000 + 60 })}`;
    const signature = createHmac('sha256', key.pem).update(input).digest('base64url');
    expect(await failure(verifier, `Bearer ${input}.${signature}`)).toMatchObject({
      kind: 'unauthenticated',
    });
  });

  it('forbids a token without the scope or the org claim', async () => {
    const unscoped = signDevToken(key, {
      org: 'ttd',
      scopes: ['altinn:serviceowner/notifications.read'],
      lifetimeMs: 60_000,
    });
    expect(await failure(verifier, `Bearer ${unscoped}`)).toMatchObject({ kind: 'forbidden' });
    const orgless = signDevToken(key, { org: ' ', scopes: [SCOPE], lifetimeMs: 60_000 });
    expect(await failure(verifier, `Bearer ${orgless}`)).toEqual({
      kind: 'forbidden',
      reason: 'The token has no org claim.',
    });
  });

  it('checks issuer and audience when configured', async () => {
    const strict = JwtVerifier.create(
      settingsFor(key.pem, { AUTH_JWT_ISSUER: 'https://issuer.example', AUTH_JWT_AUDIENCE: 'notifications' }),
    );
    const wrong = signDevToken(key, { org: 'ttd', scopes: [SCOPE], lifetimeMs: 60_000 });
    expect(await failure(strict, `Bearer ${wrong}`)).toMatchObject({ kind: 'unauthenticated' });
    const right = signDevToken(key, {
      org: 'ttd',
      scopes: [SCOPE],
      lifetimeMs: 60_000,
      issuer: 'https://issuer.example',
      audience: 'notifications',
    });
    await expect(strict.authenticate(`Bearer ${right}`)).resolves.toMatchObject({ org: 'ttd' });
  });

  describe('JWKS', () => {
    let server: Server;
    let url: string;
    let outage: 'none' | '503' | 'silent' | 'not-json' | 'not-a-key-set' = 'none';

    beforeAll(async () => {
      const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: 'EdDSA', use: 'sig' };
      server = createServer((_, response) => {
        if (outage === 'silent') return; // never answers: jose's 5 s timeout
        if (outage === '503') return void response.writeHead(503).end('down');
        response.setHeader('content-type', 'application/json');
        if (outage === 'not-json') return void response.end('<html>maintenance</html>');
        if (outage === 'not-a-key-set') return void response.end('{"keys": "none"}');
        response.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    afterEach(() => {
      outage = 'none';
    });

    it('reports a JWKS outage (down, 5xx, timeout, garbage) as unavailable, not as a bad token', async () => {
      const token = signDevToken(key, { org: 'digdir', scopes: [SCOPE], lifetimeMs: 60_000 });
      for (const kind of ['503', 'not-json', 'not-a-key-set', 'silent'] as const) {
        outage = kind;
        // A fresh verifier has no cached keys, so it must fetch them now.
        const jwks = JwtVerifier.create(loadOrdersConfig({ AUTH_JWKS_URL: url }).auth);
        expect(await failure(jwks, `Bearer ${token}`)).toEqual({
          kind: 'unavailable',
          reason: expect.stringMatching(/^The signing keys could not be fetched/),
          // jose refetches a failed key set at most every 30 s: the caller may retry then.
          retryAfterSeconds: 30,
        });
      }
      const unreachable = JwtVerifier.create(
        loadOrdersConfig({ AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks' }).auth,
      );
      expect(await failure(unreachable, `Bearer ${token}`)).toEqual({
        kind: 'unavailable',
        reason: 'The signing keys could not be fetched (unreachable).',
        retryAfterSeconds: 30,
      });
    }, 30_000);

    it('verifies tokens against the keys the JWKS URL serves', async () => {
      const jwks = JwtVerifier.create(loadOrdersConfig({ AUTH_JWKS_URL: url }).auth);
      const token = signDevToken(key, { org: 'digdir', scopes: [SCOPE], lifetimeMs: 60_000 });
      await expect(jwks.authenticate(`Bearer ${token}`)).resolves.toMatchObject({ org: 'digdir' });
      const foreign = signDevToken(
        { ...newKey(), kid: key.kid },
        { org: 'digdir', scopes: [SCOPE], lifetimeMs: 60_000 },
      );
      expect(await failure(jwks, `Bearer ${foreign}`)).toMatchObject({ kind: 'unauthenticated' });
    });
  });
});

describe(loadOrCreateDevKey.name, () => {
  it('creates the key once (0600), and every later call returns the same key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orders-dev-key-'));
    try {
      const file = join(dir, 'nested', 'key.json');
      const first = loadOrCreateDevKey(file);
      const second = loadOrCreateDevKey(file);
      expect(second.kid).toBe(first.kid);
      expect(second.publicKey.export({ format: 'jwk' })).toEqual(first.publicKey.export({ format: 'jwk' }));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
        algorithm: 'EdDSA',
        note: expect.stringMatching(/Development-only/),
      });
      const token = signDevToken(first, { org: 'ttd', scopes: [SCOPE], lifetimeMs: 60_000 });
      return JwtVerifier.create(loadOrdersConfig({ AUTH_DEV_KEY_FILE: file }).auth)
        .authenticate(`Bearer ${token}`)
        .then((caller) => expect(caller.org).toBe('ttd'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
