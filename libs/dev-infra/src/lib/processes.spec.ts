import fs from 'node:fs';
import net from 'node:net';
import { freePort, freePorts } from './processes';

function ephemeralRangeStart(): number {
  const [low = '32768'] = fs
    .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/);
  return Number.parseInt(low, 10);
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (servers: readonly net.Server[]): Promise<unknown> =>
  Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));

describe('freePorts', () => {
  it('picks distinct ports below the ephemeral range, each of which a server can then listen on', async () => {
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) expect(port).toBeLessThan(ephemeralRangeStart());
    await close(await Promise.all(ports.map(listen)));
  });

  it('skips ports something is listening on, and says so when none is left', async () => {
    const [lowest = 0] = await freePorts(1);
    const range = { lowest, highest: lowest + 2 };
    const taken = await Promise.all([listen(lowest), listen(lowest + 2)]);
    try {
      // The one port of the three still free, whichever of them the random start falls on.
      for (let attempt = 0; attempt < 5; attempt += 1) expect(await freePort(range)).toBe(lowest + 1);
      await expect(freePorts(2, range)).rejects.toThrow(/no 2 free TCP ports/);
    } finally {
      await close(taken);
    }
  });
});
