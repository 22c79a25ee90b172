/**
 * `npm run token -- --org ttd`: prints a bearer token signed with the development key, which the default
 * development configuration (APP_ENV=development or test, no AUTH_JWT_PUBLIC_KEY / AUTH_JWKS_URL) trusts.
 * `npm run token -- --operator`: an operator's token for the management listeners of every app (trusted while
 * OPERATOR_AUTH_JWT_PUBLIC_KEY / OPERATOR_AUTH_JWKS_URL are unset). Production configurations have no such key,
 * so these tokens are worthless there.
 *
 *   --org <org>          the org claim, i.e. the orders' creator (default ttd)
 *   --operator           an operator's token (scope altinn:notifications.operator, no org) instead
 *   --scope <scope>      scope claim (default: the configured required scope; repeat for several)
 *   --expires-in <dur>   lifetime: 30m, 12h, 7d … (default 1h)
 *
 * Only the token goes to stdout: `TOKEN=$(node apps/orders/dist/tools/token.js --org ttd)`.
 */
import { parseArgs } from 'node:util';
import {
  loadOrCreateDevKey,
  parseDurationMs,
  signDevToken,
  type JwtAuthSettings,
} from '@notifications/config';
import { loadOrdersConfig } from '../config/orders.config';

function main(): void {
  const { values } = parseArgs({
    options: {
      org: { type: 'string', default: 'ttd' },
      operator: { type: 'boolean', default: false },
      scope: { type: 'string', multiple: true },
      'expires-in': { type: 'string', default: '1h' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stderr.write(
      'Usage: npm run token -- [--org ttd | --operator] [--scope <scope> …] [--expires-in 1h]\n',
    );
    return;
  }
  const config = loadOrdersConfig();
  const auth: JwtAuthSettings = values.operator ? config.management.operatorAuth : config.auth;
  const prefix = values.operator ? 'OPERATOR_AUTH_' : 'AUTH_';
  if (auth.key.kind !== 'dev') {
    throw new Error(
      `This configuration trusts ${prefix}${auth.key.kind === 'pem' ? 'JWT_PUBLIC_KEY' : 'JWKS_URL'}, ` +
        'not the development key: get a token from that issuer instead.',
    );
  }
  const lifetimeMs = parseDurationMs(values['expires-in']);
  if (lifetimeMs === undefined || lifetimeMs <= 0)
    throw new Error(`Invalid --expires-in ${values['expires-in']}`);
  const key = loadOrCreateDevKey(auth.key.devKeyFile);
  const token = signDevToken(key, {
    ...(values.operator ? {} : { org: values.org }),
    scopes: values.scope ?? [auth.requiredScope],
    lifetimeMs,
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  });
  process.stdout.write(`${token}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
