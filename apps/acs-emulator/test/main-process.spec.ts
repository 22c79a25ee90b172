import { EmailClient } from '@azure/communication-email';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AppProcess, startAppProcess } from '@notifications/testing';
import { DEFAULT_ACCESS_KEY } from '../src/config/emulator.config';

// The built entry point other apps' tests spawn (nx builds it before this project's tests: see project.json).
const MAIN = join(__dirname, '..', 'dist', 'main.js');
const LISTENING = /ACS emulator listening on (http:\/\/\S+)/;

/** Starts the emulator as other apps' tests do (see README) and resolves with its URL. */
async function spawnEmulator(env: Record<string, string>): Promise<{ child: AppProcess; url: string }> {
  const child = startAppProcess({
    args: [MAIN],
    env: { PORT: '0', HOST: '127.0.0.1', ...env },
    name: 'ACS emulator',
  });
  return { child, url: await child.waitForLine(LISTENING, 15_000) };
}

describe('apps/acs-emulator/dist/main.js', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "nx run acs-emulator:build" first`);
  });

  it('prints its URL, serves the SDK and health probes, and stops cleanly on SIGTERM', async () => {
    const { child, url } = await spawnEmulator({
      ACS_OPERATION_DELAY_MS: '10ms',
      ACS_POLL_RETRY_AFTER_SECONDS: '0',
    });
    try {
      const client = new EmailClient(`endpoint=${url}/;accesskey=${DEFAULT_ACCESS_KEY}`, {
        allowInsecureConnection: true,
      });
      const result = await (
        await client.beginSend({
          senderAddress: 'noreply@example.org',
          content: { subject: 'Spawned', plainText: 'hello' },
          recipients: { to: [{ address: 'a@example.org' }] },
        })
      ).pollUntilDone();

      expect(result.status).toBe('Succeeded');
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    } finally {
      // Nest closes the app, then re-raises the signal so the exit status says why the process ended.
      const { code, signal } = await child.stop({ timeoutMs: 30_000 });
      expect(signal ?? `code ${code}`).toMatch(/^(SIGTERM|code 0)$/);
    }
  });

  it('exits with a message naming every bad variable', async () => {
    await expect(
      spawnEmulator({ ACS_CONNECTION_STRING: 'nonsense', ACS_RULES: '[{"match":"*"}]' }),
    ).rejects.toThrow(
      /ACS_CONNECTION_STRING[\s\S]*ACS_RULES: expected a rule or an array of rules \(0\.behaviour/,
    );
  });
});
