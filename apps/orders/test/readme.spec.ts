import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Type } from '@nestjs/common';
import { managementRoutes, MetricsController, StatusController } from '@notifications/observability';
import { GLOBAL_PREFIX } from '../src/app/orders-app';
import { ConsoleController } from '../src/ops/console.controller';

const APP_ROOT = join(__dirname, '..');

/** Every class exported by the app's `*.controller.ts` files: a new controller is checked without listing it here. */
function appControllers(): Type[] {
  const files = readdirSync(join(APP_ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.controller.ts'),
  );
  return files.flatMap((file) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by path, whatever the file exports
    const exports = require(join(APP_ROOT, 'src', file)) as Record<string, unknown>;
    return Object.values(exports).filter((value): value is Type => typeof value === 'function');
  });
}

describe('orders README', () => {
  const readme = readFileSync(join(APP_ROOT, 'README.md'), 'utf8');

  it('lists every route of the management listener', () => {
    const routes = [
      ...managementRoutes(
        appControllers().filter((controller) => controller !== ConsoleController),
        GLOBAL_PREFIX,
      ),
      // The shared $status and metrics controllers and the console's page sit outside any global prefix.
      ...managementRoutes([StatusController, MetricsController, ConsoleController]),
    ];
    expect(routes.length).toBeGreaterThan(2);
    expect(routes.filter((route) => !readme.includes(`\`${route}\``))).toEqual([]);
  });
});
