import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ContractViolationError } from './contract-violation.error';
import { type MessageContract } from './message-contract';
import { EmailContract } from './messages/email.contract';
import { GenericServiceUpdateContract } from './messages/generic-service-update.contract';
import { NotificationOrderContract } from './messages/notification-order.contract';
import { SendNotificationOperationIdentifierContract } from './messages/send-notification-operation-identifier.contract';
import { SendOperationResultContract } from './messages/send-operation-result.contract';

// The example messages of SPEC section 4 live in `shared/contracts/` beside the repository. They are the
// compatibility bar, so a missing folder fails the suite instead of silently skipping it.

function workspaceRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

const contractsDir =
  process.env['NOTIFICATIONS_CONTRACTS_DIR'] ?? resolve(workspaceRoot(), '../shared/contracts');
const invalidDir = join(contractsDir, 'invalid');

const contractsByPrefix: Record<string, MessageContract<unknown>> = {
  email: EmailContract,
  'generic-service-update': GenericServiceUpdateContract,
  'notification-order': NotificationOrderContract,
  'send-notification-operation-identifier': SendNotificationOperationIdentifierContract,
  'send-operation-result': SendOperationResultContract,
};

function contractFor(file: string): MessageContract<unknown> | undefined {
  const prefix = file.split('.')[0] ?? '';
  return contractsByPrefix[prefix];
}

function filesIn(dir: string, pattern: RegExp): string[] {
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isFile() && pattern.test(entry.name))
        .map((entry) => entry.name)
        .sort()
    : [];
}

const validFiles = filesIn(contractsDir, /\.json$/);
const invalidFiles = filesIn(invalidDir, /./);

// The field each known invalid example must be rejected for ('' = the whole message).
const expectedInvalidPath: Record<string, string> = {
  'email.bad-content-type.json': 'contentType',
  'email.missing-notification-id.json': 'notificationId',
  'not-json.txt': '',
  'send-operation-result.unknown-result.json': 'sendResult',
};

function rejectionOf(contract: MessageContract<unknown>, raw: string): ContractViolationError {
  try {
    contract.parse(raw);
  } catch (error) {
    if (error instanceof ContractViolationError) return error;
    throw error;
  }
  throw new Error('the message was accepted');
}

describe('shared wire examples', () => {
  it(`finds the example folder (${contractsDir})`, () => {
    expect(existsSync(contractsDir)).toBe(true);
    expect(validFiles.length).toBeGreaterThan(0);
    expect(invalidFiles.length).toBeGreaterThan(0);
  });

  it('maps every example to a contract', () => {
    expect(validFiles.filter((file) => contractFor(file) === undefined)).toEqual([]);
  });

  describe.each(validFiles.length > 0 ? validFiles : ['<none>'])('%s', (file) => {
    const raw = (): string => readFileSync(join(contractsDir, file), 'utf8');
    const contract = (): MessageContract<unknown> => contractFor(file) ?? EmailContract;

    it('parses and re-serialises to an equivalent document', () => {
      const written = contract().serialize(contract().parse(raw()));
      expect(JSON.parse(written)).toEqual(JSON.parse(raw()));
    });

    it('re-serialises byte for byte', () => {
      expect(contract().serialize(contract().parse(raw()))).toBe(raw().trimEnd());
    });

    if (file.startsWith('generic-service-update')) {
      it('keeps an equivalent data document', () => {
        const dataOf = (json: string): unknown => JSON.parse((JSON.parse(json) as { data: string }).data);
        expect(dataOf(contract().serialize(contract().parse(raw())))).toEqual(dataOf(raw()));
      });
    }
  });

  describe.each(invalidFiles.length > 0 ? invalidFiles : ['<none>'])('invalid/%s', (file) => {
    it('is rejected, naming the bad field', () => {
      const raw = readFileSync(join(invalidDir, file), 'utf8');
      const error = rejectionOf(contractFor(file) ?? EmailContract, raw);
      const path = expectedInvalidPath[file] ?? guessedField(file);
      if (path === '') {
        expect(error.issues).toEqual([{ path: '', message: expect.stringMatching(/^not valid JSON: /) }]);
        expect(error.message).toMatch(/not valid JSON/);
      } else {
        expect(error.issues.map((issue) => issue.path.toLowerCase())).toContainEqual(
          expect.stringContaining(path.toLowerCase()),
        );
        expect(error.message.toLowerCase()).toContain(path.toLowerCase());
      }
    });
  });
});

/** For examples added later: `email.missing-to-address.json` → `toAddress`. */
function guessedField(file: string): string {
  const detail = file.split('.')[1] ?? '';
  const field = detail.replace(/^(bad|missing|unknown|invalid|wrong)-/, '');
  return field.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
