/**
 * `npm run token -- --org ttd`: prints a bearer token signed with the development key, which the default
 * development configuration (APP_ENV=development or test, no AUTH_JWT_PUBLIC_KEY / AUTH_JWKS_URL) trusts.
 * Production configurations have no such key, so these tokens are worthless there.
 *
 *   --org <org>          the org claim, i.e. the orders' creator (default ttd)
 *   --scope <scope>      scope claim (default altinn:serviceowner/notifications.create; repeat for several)
 *   --expires-in <dur>   lifetime: 30m, 12h, 7d … (default 1h)
 *
 * Only the token goes to stdout: `TOKEN=$(node apps/orders/dist/tools/token.js --org ttd)`.
 */
import { parseArgs } from 'node:util';
import { parseDurationMs } from '@notifications/config';
import { loadOrdersConfig } from '../config/orders.config';
import { loadOrCreateDevKey } from '../auth/dev-key';
import { signDevToken } from '../auth/dev-token';

function main(): void {
  const { values } = parseArgs({
    options: {
      org: { type: 'string', default: 'ttd' },
      scope: { type: 'string', multiple: true },
      'expires-in': { type: 'string', default: '1h' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stderr.write('Usage: npm run token -- [--org ttd] [--scope <scope> …] [--expires-in 1h]\n');
    return;
  }
  const config = loadOrdersConfig();
  if (config.auth.key.kind !== 'dev') {
    throw new Error(
      `This configuration trusts ${config.auth.key.kind === 'pem' ? 'AUTH_JWT_PUBLIC_KEY' : 'AUTH_JWKS_URL'}, ` +
        'not the development key: get a token from that issuer instead.',
    );
  }
  const lifetimeMs = parseDurationMs(values['expires-in']);
  if (lifetimeMs === undefined || lifetimeMs <= 0)
    throw new Error(`Invalid --expires-in ${values['expires-in']}`);
  const key = loadOrCreateDevKey(config.auth.key.devKeyFile);
  const token = signDevToken(key, {
    org: values.org,
    scopes: values.scope ?? [config.auth.requiredScope],
    lifetimeMs,
    ...(config.auth.issuer === undefined ? {} : { issuer: config.auth.issuer }),
    ...(config.auth.audience === undefined ? {} : { audience: config.auth.audience }),
  });
  process.stdout.write(`${token}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
