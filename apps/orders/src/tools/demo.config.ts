import {
  envBool,
  envDurationMs,
  envGroup,
  envInt,
  envString,
  envUrl,
  loadConfig,
} from '@notifications/config';
import { z } from 'zod';

export interface DemoApp {
  readonly name: string;
  readonly url: string;
}

export interface DemoConfig {
  readonly orders: DemoApp;
  /** Every app the demo needs, orders first; each must answer `GET /health/ready` with 200. */
  readonly apps: readonly DemoApp[];
  readonly emulatorUrl: string;
  readonly org: string;
  /** A bearer token to use instead of minting one with the development key. */
  readonly token?: string;
  readonly timeoutMs: number;
  /** Throttled sends of the demo's `…@briefly.throttle.test` recipient before the emulator lets it through. */
  readonly throttleTimes: number;
  /** `--subscribe`: also receive the order's status changes through a status subscription to a local endpoint. */
  readonly subscribe: boolean;
}

const http = { protocols: ['http', 'https'] };

// Defaults are where `npm start` runs the apps (each app's package.json `notifications.port`).
const demoSettings = envGroup(
  z
    .object({
      DEMO_ORDERS_URL: envUrl('http://127.0.0.1:5090', http),
      DEMO_EMAIL_SENDER_URL: envUrl('http://127.0.0.1:5091', http),
      DEMO_STATUS_POLLER_URL: envUrl('http://127.0.0.1:5092', http),
      DEMO_ACS_EMULATOR_URL: envUrl('http://127.0.0.1:5099', http),
      DEMO_ORG: envString('ttd'),
      DEMO_TOKEN: envString().optional(),
      // Throttling costs a 2 s pause plus ORDERS_TRANSIENT_RESEND_DELAY (10 s) per throttled send.
      DEMO_TIMEOUT: envDurationMs('3m', { min: 1_000 }),
      DEMO_THROTTLE_TIMES: envInt(1, { min: 0, max: 10 }),
      DEMO_SUBSCRIBE: envBool(false),
    })
    .transform((env): DemoConfig => {
      const app = (name: string, url: string): DemoApp => ({ name, url: url.replace(/\/+$/, '') });
      const orders = app('orders', env.DEMO_ORDERS_URL);
      const emulator = app('acs-emulator', env.DEMO_ACS_EMULATOR_URL);
      return {
        orders,
        apps: [
          orders,
          app('email-sender', env.DEMO_EMAIL_SENDER_URL),
          app('status-poller', env.DEMO_STATUS_POLLER_URL),
          emulator,
        ],
        emulatorUrl: emulator.url,
        org: env.DEMO_ORG,
        ...(env.DEMO_TOKEN === undefined ? {} : { token: env.DEMO_TOKEN }),
        timeoutMs: env.DEMO_TIMEOUT,
        throttleTimes: env.DEMO_THROTTLE_TIMES,
        subscribe: env.DEMO_SUBSCRIBE,
      };
    }),
);

/** The environment's settings; `--subscribe` among `argv` turns DEMO_SUBSCRIBE on. */
export function loadDemoConfig(
  env: Record<string, string | undefined> = process.env,
  argv: readonly string[] = process.argv.slice(2),
): DemoConfig {
  const unknown = argv.filter((arg) => arg !== '--subscribe');
  if (unknown.length > 0)
    throw new Error(`Unknown argument(s): ${unknown.join(' ')} (the demo takes --subscribe)`);
  const config = loadConfig(z.object({ demo: demoSettings }), env).demo;
  return argv.includes('--subscribe') ? { ...config, subscribe: true } : config;
}
