import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { managementRoutes, MetricsController, StatusController } from '@notifications/observability';
import { exportedClasses } from '@notifications/testing';
import { GLOBAL_PREFIX } from '../src/app/orders-app';
import { ConsoleController } from '../src/ops/console.controller';

const APP_ROOT = join(__dirname, '..');

describe('orders README', () => {
  const readme = readFileSync(join(APP_ROOT, 'README.md'), 'utf8');

  it('lists every route of the management listener', () => {
    const routes = [
      ...managementRoutes(
        exportedClasses(join(APP_ROOT, 'src'), '.controller.ts').filter(
          (controller) => controller !== ConsoleController,
        ),
        GLOBAL_PREFIX,
      ),
      // The shared $status and metrics controllers and the console's page sit outside any global prefix.
      ...managementRoutes([StatusController, MetricsController, ConsoleController]),
    ];
    expect(routes.length).toBeGreaterThan(2);
    expect(routes.filter((route) => !readme.includes(`\`${route}\``))).toEqual([]);
  });
});
