import fs from 'node:fs';
import { Client } from 'pg';
import {
  type IsolatedPostgres,
  restartIsolatedPostgres,
  startIsolatedPostgres,
  stopIsolatedPostgres,
} from '../src';

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

// A server of this test's own (the shared PostgreSQL is never touched): started, crashed, restarted, removed.
describe('isolated PostgreSQL', () => {
  let postgres: IsolatedPostgres | undefined;

  afterAll(async () => {
    await stopIsolatedPostgres(postgres);
  });

  it('keeps committed rows across a crash, and leaves nothing behind when stopped', async () => {
    postgres = await startIsolatedPostgres({ name: 'dev-infra-test' });
    await query(postgres.url, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)');

    const crashed = postgres.pid;
    postgres = await restartIsolatedPostgres(postgres, { kill: true });

    expect(postgres.pid).not.toBe(crashed);
    expect(await query(postgres.url, 'SELECT id FROM kept')).toEqual([{ id: 1 }]);

    await stopIsolatedPostgres(postgres);

    expect(fs.existsSync(postgres.dir)).toBe(false);
    postgres = undefined;
  });
});
