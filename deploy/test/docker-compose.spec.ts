import { parseDurationMs } from '@notifications/config';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDockerfile } from '../src/dockerfile';
import { isRecord } from '../src/kustomize';
import { APPS, WORKSPACE_ROOT } from '../src/workspace';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  command?: string[];
  ports?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string | string[] };
  profiles?: string[];
  stop_grace_period?: string;
  restart?: string;
}

// Merge keys (`<<: *app`) are part of Compose's YAML, so they are resolved here too.
const compose: unknown = parse(readFileSync(join(WORKSPACE_ROOT, 'docker-compose.yml'), 'utf8'), {
  merge: true,
  maxAliasCount: 100,
});
if (!isRecord(compose) || !isRecord(compose['services']))
  throw new Error('docker-compose.yml has no services');
const services = compose['services'] as Record<string, ComposeService>;

function service(name: string): ComposeService {
  const found = services[name];
  if (found === undefined) throw new Error(`no service ${name}`);
  return found;
}

function env(name: string, variable: string): string {
  const value = service(name).environment?.[variable];
  if (value === undefined) throw new Error(`${name} has no ${variable}`);
  return String(value);
}

function connectionString(text: string): Map<string, string> {
  return new Map(
    text
      .split(';')
      .filter((part) => part !== '')
      .map((part) => [part.slice(0, part.indexOf('=')).toLowerCase(), part.slice(part.indexOf('=') + 1)]),
  );
}

const WORKERS = ['orders', 'email-sender', 'status-poller'];

describe('docker-compose.yml', () => {
  it('keeps the infrastructure services and adds the whole stack', () => {
    expect(service('kafka').image).toMatch(/^apache\/kafka:/);
    expect(service('postgres').image).toMatch(/^postgres:/);
    for (const name of [...APPS.map((app) => app.name), 'orders-migrate'])
      expect(service(name)).toBeDefined();
  });

  it('builds every app from an existing Dockerfile target', () => {
    const dockerfiles = new Map<string, Set<string | undefined>>();
    for (const [name, definition] of Object.entries(services)) {
      if (definition.build === undefined) continue;
      const context = join(WORKSPACE_ROOT, definition.build.context);
      expect(existsSync(context)).toBe(true);
      const file = join(context, definition.build.dockerfile ?? 'Dockerfile');
      expect(existsSync(file)).toBe(true);
      const stages =
        dockerfiles.get(file) ??
        new Set(parseDockerfile(readFileSync(file, 'utf8')).stages.map((s) => s.name));
      dockerfiles.set(file, stages);
      expect({ name, target: stages.has(definition.build.target) }).toEqual({ name, target: true });
    }
    for (const app of APPS) expect(service(app.name).build?.target).toBe(app.name);
  });

  it('only depends on services that exist, and orders on its finished migration', () => {
    for (const [name, definition] of Object.entries(services)) {
      for (const dependency of Object.keys(definition.depends_on ?? {})) {
        expect({ name, dependency, exists: dependency in services }).toEqual({
          name,
          dependency,
          exists: true,
        });
      }
    }
    expect(service('orders').depends_on?.['orders-migrate']).toEqual({
      condition: 'service_completed_successfully',
    });
    expect(service('orders-migrate').command).toEqual(['node', 'apps/orders/dist/migrate.js', 'run']);
    expect(service('orders-migrate').image).toBe(service('orders').image);
    expect(service('orders-migrate').restart).toBe('no');
    for (const name of WORKERS)
      expect(service(name).depends_on?.['kafka']).toEqual({ condition: 'service_healthy' });
  });

  it('reaches Kafka and PostgreSQL inside the Compose network', () => {
    for (const name of WORKERS) expect(env(name, 'KAFKA_BROKERS')).toBe('kafka:29092');
    for (const name of ['orders', 'orders-migrate']) {
      expect(new URL(env(name, 'DATABASE_URL')).host).toBe('postgres:5432');
    }
    // the listener the Kafka service advertises to containers
    expect(env('kafka', 'KAFKA_ADVERTISED_LISTENERS')).toContain('//kafka:29092');
  });

  it('points the senders at the emulator and the emulator at the status-poller webhook', () => {
    const emulatorKey = connectionString(env('acs-emulator', 'ACS_CONNECTION_STRING')).get('accesskey');
    for (const name of ['email-sender', 'status-poller']) {
      const settings = connectionString(env(name, 'ACS_CONNECTION_STRING'));
      expect(new URL(settings.get('endpoint') ?? '').host).toBe(
        `acs-emulator:${env('acs-emulator', 'PORT')}`,
      );
      expect(settings.get('accesskey')).toBe(emulatorKey);
    }
    const webhook = new URL(env('acs-emulator', 'ACS_DELIVERY_REPORT_WEBHOOK'));
    expect(webhook.host).toBe(`status-poller:${env('status-poller', 'PORT')}`);
    expect(webhook.pathname).toBe('/notifications/email/api/v1/reports');
    // the key travels in a header, never in the URL
    expect(webhook.search).toBe('');
    expect(env('acs-emulator', 'ACS_DELIVERY_REPORT_ACCESS_KEY')).toBe(
      env('status-poller', 'DELIVERY_REPORT_ACCESS_KEY'),
    );
  });

  it('health-checks every long-running service', () => {
    for (const [name, definition] of Object.entries(services)) {
      if (name === 'orders-migrate') continue;
      expect({ name, healthcheck: definition.healthcheck !== undefined }).toEqual({
        name,
        healthcheck: true,
      });
    }
    for (const app of APPS) expect(JSON.stringify(service(app.name).healthcheck?.test)).toContain('/health/');
  });

  it('listens on each app port and publishes no host port twice', () => {
    const published = Object.values(services).flatMap((definition) =>
      (definition.ports ?? []).map((mapping) => {
        const parts = mapping.split(':');
        return parts.length === 3 ? `${parts[0]}:${parts[1]}` : `0.0.0.0:${parts[0]}`;
      }),
    );
    expect(new Set(published).size).toBe(published.length);
    for (const app of APPS) {
      expect(env(app.name, 'PORT')).toBe(String(app.port));
      expect(service(app.name).ports).toContain(`127.0.0.1:${app.port}:${app.port}`);
    }
  });

  it('gives the Kafka apps longer to stop than they take to drain', () => {
    for (const name of WORKERS) {
      const grace = parseDurationMs(service(name).stop_grace_period ?? '10s') ?? 0;
      const drain = parseDurationMs(env(name, 'KAFKA_SHUTDOWN_TIMEOUT_MS')) ?? Infinity;
      expect(grace).toBeGreaterThan(drain);
    }
  });

  it('starts the apps only on request (profile), so `docker compose up` stays infrastructure-only', () => {
    expect(service('kafka').profiles).toBeUndefined();
    expect(service('postgres').profiles).toBeUndefined();
    for (const name of [...APPS.map((app) => app.name), 'orders-migrate']) {
      expect(service(name).profiles).toEqual(['apps']);
    }
  });
});
