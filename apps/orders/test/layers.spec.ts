import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ordersRoot = join(__dirname, '..');

/**
 * Lints `code` with the app's ESLint configuration (the ESLint class, `lintText` with `filePath`) as if it were
 * the existing file `filePath`, so the type-aware parser finds it in the project; returns the layer rule's
 * messages. ESLint loads its flat config by dynamic import, which Jest's module sandbox refuses, hence a child
 * Node process.
 */
function restrictedImports(code: string, filePath: string): string[] {
  const script = `
    import { ESLint } from 'eslint';
    const [code, filePath] = process.argv.slice(1);
    const [result] = await new ESLint({ cwd: process.cwd() }).lintText(code, { filePath });
    const messages = (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.fatal);
    process.stdout.write(JSON.stringify(messages.map((m) => m.message)));
  `;
  const output = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script, code, join(ordersRoot, filePath)],
    { cwd: ordersRoot, encoding: 'utf8' },
  );
  return JSON.parse(output) as string[];
}

describe('orders layer rule (apps/orders/eslint.config.mjs)', () => {
  it('refuses an import from store/ into api/', () => {
    const errors = restrictedImports(
      "import { OrdersService } from '../api/orders.service';\nexport const service = OrdersService;\n",
      'src/store/sql.ts',
    );
    expect(errors).toEqual([expect.stringContaining('src/store/ may import only from lower layers')]);
  });

  it('refuses an import between two steps (api/ into intake/)', () => {
    const errors = restrictedImports(
      "import { PastDueService } from '../intake/past-due.service';\nexport const service = PastDueService;\n",
      'src/api/http-types.ts',
    );
    expect(errors).toEqual([expect.stringContaining('src/api/ may import only from lower layers')]);
  });

  it('allows an import downwards (api/ into store/ and domain/)', () => {
    const errors = restrictedImports(
      "import { OrderRepository } from '../store/order.repository';\nimport { chunks } from '../domain/chunks';\n" +
        'export const used = [OrderRepository, chunks];\n',
      'src/api/http-types.ts',
    );
    expect(errors).toEqual([]);
  });
});
