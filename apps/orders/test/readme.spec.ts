import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { managementRoutes, MetricsController, StatusController } from '@notifications/observability';
import { exportedClasses } from '@notifications/testing';
import { GLOBAL_PREFIX } from '../src/app/orders-app';

const APP_ROOT = join(__dirname, '..');

describe('orders README', () => {
  const readme = readFileSync(join(APP_ROOT, 'README.md'), 'utf8');

  it('lists every route of the management listener', () => {
    const routes = [
      ...managementRoutes(exportedClasses(join(APP_ROOT, 'src'), '.controller.ts'), GLOBAL_PREFIX),
      // The shared $status and metrics controllers sit outside any global prefix.
      ...managementRoutes([StatusController, MetricsController]),
    ];
    expect(routes.length).toBeGreaterThan(2);
    expect(routes.filter((route) => !readme.includes(`\`${route}\``))).toEqual([]);
  });
});
