import { readdirSync } from 'node:fs';
import { join } from 'node:path';

// Structurally Nest's `Type`: kept local so this lib does not depend on Nest.
type Class = new (...args: never[]) => unknown;

/**
 * Every class exported by the files under `sourceDir` whose names end with `suffix` (`.controller.ts`), loaded by
 * path: a test that checks "every controller" sees a new one without anyone listing it.
 */
export function exportedClasses(sourceDir: string, suffix: string): Class[] {
  const files = readdirSync(sourceDir, { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith(suffix),
  );
  return files.flatMap((file) => {
    const exports = require(join(sourceDir, file)) as Record<string, unknown>;
    return Object.values(exports).filter((value): value is Class => typeof value === 'function');
  });
}
