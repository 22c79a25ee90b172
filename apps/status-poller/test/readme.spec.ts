import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { managementRoutes, MetricsController, StatusController } from '@notifications/observability';
import { exportedClasses } from '@notifications/testing';
import { DeliveryReportController } from '../src/delivery-reports/delivery-report.controller';

const APP_ROOT = join(__dirname, '..');

describe('status-poller README', () => {
  const readme = readFileSync(join(APP_ROOT, 'README.md'), 'utf8');

  it('lists every route of the management listener', () => {
    const routes = [
      ...managementRoutes(exportedClasses(join(APP_ROOT, 'src'), '.controller.ts'), ''),
      // The shared $status and metrics controllers sit outside any global prefix.
      ...managementRoutes([StatusController, MetricsController]),
    ];
    expect(routes.length).toBeGreaterThan(2);
    expect(routes.filter((route) => !readme.includes(`\`${route}\``))).toEqual([]);
  });

  it('lists every setting its configuration reads', () => {
    const config = readFileSync(join(APP_ROOT, 'src/config/status-poller.config.ts'), 'utf8');
    // The keys of its env groups: the variable names, one per line.
    const settings = [...config.matchAll(/^ {6}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]);
    expect(settings.length).toBeGreaterThanOrEqual(20);
    expect(settings.filter((name) => !readme.includes(`| \`${name}\``))).toEqual([]);
  });
});

describe('the ACS emulator README', () => {
  it("points its delivery-report webhook examples at status-poller's webhook route", () => {
    const path: unknown = Reflect.getMetadata('path', DeliveryReportController);
    const readme = readFileSync(join(APP_ROOT, '../acs-emulator/README.md'), 'utf8');
    const urls = [...readme.matchAll(/http:\/\/127\.0\.0\.1:5092(\/[^\s"`?]*)/g)].map((match) => match[1]);
    expect(urls.length).toBeGreaterThan(0);
    expect(new Set(urls)).toEqual(new Set([`/${String(path)}`]));
  });
});
