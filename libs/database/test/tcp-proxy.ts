import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL, to simulate outages against the real server: `blackhole()` keeps
 * connections open but stops forwarding (a hung database), `close()` refuses new connections and cuts the
 * open ones (a database that went away).
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private blackholed = false;
  private boundPort = 0;

  private constructor(targetPort: number, targetHost: string) {
    this.server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk) => this.blackholed || upstream.write(chunk));
      upstream.on('data', (chunk) => this.blackholed || client.write(chunk));
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
    });
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, targetHost);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.boundPort = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  /** Stays readable after `close()`, for asserting on refused connections. */
  get port(): number {
    return this.boundPort;
  }

  blackhole(): void {
    this.blackholed = true;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
