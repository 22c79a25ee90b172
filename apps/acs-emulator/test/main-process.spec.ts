import { EmailClient } from '@azure/communication-email';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ACCESS_KEY } from '../src/config/emulator.config';

// The built entry point other apps' tests spawn (nx builds it before this project's tests: see project.json).
const MAIN = join(__dirname, '..', 'dist', 'main.js');
const LISTENING = /ACS emulator listening on (http:\/\/\S+)/;

/** Spawns the emulator as other apps' tests do (see README) and resolves with its URL. */
function spawnEmulator(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`emulator did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = LISTENING.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({ child, url: match[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited with ${code}:\n${output}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
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
      const exited = exitOf(child);
      child.kill('SIGTERM');
      // Nest closes the app, then re-raises the signal so the exit status says why the process ended.
      expect(await exited).toMatch(/^(SIGTERM|code 0)$/);
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
