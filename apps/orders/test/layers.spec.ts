import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ordersRoot = join(__dirname, '..');

interface LintCase {
  /** Linted as if it were this existing file, so the type-aware parser finds it in the project. */
  readonly filePath: string;
  readonly code: string;
}

/**
 * Lints each case with the app's ESLint configuration (the ESLint class, `lintText` with `filePath`) and returns
 * the layer rule's messages per case. ESLint loads its flat config by dynamic import, which Jest's module
 * sandbox refuses, hence one child Node process for all cases.
 */
function restrictedImports(cases: readonly LintCase[]): string[][] {
  const script = `
    import { ESLint } from 'eslint';
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = [];
    for (const { code, filePath } of JSON.parse(process.argv[1])) {
      const [result] = await eslint.lintText(code, { filePath });
      const messages = (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.fatal);
      out.push(messages.map((m) => m.message));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const input = cases.map((c) => ({ code: c.code, filePath: join(ordersRoot, c.filePath) }));
  const output = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(input)],
    {
      cwd: ordersRoot,
      encoding: 'utf8',
    },
  );
  return JSON.parse(output) as string[][];
}

describe('orders layer rule (apps/orders/eslint.config.mjs)', () => {
  let storeIntoApi: string[] | undefined;
  let apiIntoIntake: string[] | undefined;
  let apiDownwards: string[] | undefined;

  beforeAll(() => {
    [storeIntoApi, apiIntoIntake, apiDownwards] = restrictedImports([
      {
        filePath: 'src/store/sql.ts',
        code: "import { OrdersService } from '../api/orders.service';\nexport const service = OrdersService;\n",
      },
      {
        filePath: 'src/api/http-types.ts',
        code: "import { PastDueService } from '../intake/past-due.service';\nexport const service = PastDueService;\n",
      },
      {
        filePath: 'src/api/http-types.ts',
        code:
          "import { OrderRepository } from '../store/order.repository';\nimport { chunks } from '../domain/chunks';\n" +
          'export const used = [OrderRepository, chunks];\n',
      },
    ]);
  });

  it('refuses an import from store/ into api/', () => {
    expect(storeIntoApi).toEqual([expect.stringContaining('src/store/ may import only from lower layers')]);
  });

  it('refuses an import between two steps (api/ into intake/)', () => {
    expect(apiIntoIntake).toEqual([expect.stringContaining('src/api/ may import only from lower layers')]);
  });

  it('allows an import downwards (api/ into store/ and domain/)', () => {
    expect(apiDownwards).toEqual([]);
  });
});
