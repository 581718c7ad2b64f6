// A DNS proxy that adds a fixed delay to every answer: the benchmarks' stand-in for a resolver on the other side of
// the internet. UDP queries are forwarded to the upstream server and each answer is held back `delayMs`; TCP
// connections (truncated answers) are forwarded the same way, each chunk from upstream delayed.

import dgram from 'node:dgram';
import net from 'node:net';

export interface DelayProxy {
  port: number;
  /** Queries forwarded so far. */
  queries(): number;
  close(): Promise<void>;
}

export async function startDelayProxy(upstream: { host: string; port: number }, delayMs: number): Promise<DelayProxy> {
  const server = dgram.createSocket('udp4');
  let count = 0;
  server.on('message', (query, client) => {
    count += 1;
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => socket.close(), 5000);
    socket.once('message', (answer) => {
      setTimeout(() => {
        server.send(answer, client.port, client.address);
        clearTimeout(timer);
        socket.close();
      }, delayMs);
    });
    socket.send(query, upstream.port, upstream.host);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  const port = server.address().port;
  const tcp = net.createServer((client) => {
    const upstreamSocket = net.connect(upstream.port, upstream.host);
    client.on('data', (chunk) => {
      count += 1;
      upstreamSocket.write(chunk);
    });
    upstreamSocket.on('data', (chunk) => setTimeout(() => client.write(chunk), delayMs));
    const end = () => {
      client.destroy();
      upstreamSocket.destroy();
    };
    client.on('error', end).on('close', end);
    upstreamSocket.on('error', end).on('close', () => setTimeout(end, delayMs + 10));
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    queries: () => count,
    close: async () => {
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/**
 * The proxy in a process of its own, so that the work of the program measured cannot hold its answers back (and the
 * proxy's timers cannot slow the program down). Resolves once it listens.
 */
export async function startDelayProxyProcess(
  upstream: { host: string; port: number },
  delayMs: number
): Promise<{ port: number; close(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [import.meta.filename, upstream.host, String(upstream.port), String(delayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the DNS delay proxy exited (${code})`)));
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString('utf8').trim())));
  });
  child.removeAllListeners('exit');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// Run as a program: `dns-delay-proxy.ts HOST PORT DELAY_MS` prints the port it listens on.
if (process.argv[1] === import.meta.filename) {
  const [host = '127.0.0.1', port = '53', delay = '50'] = process.argv.slice(2);
  const proxy = await startDelayProxy({ host, port: Number(port) }, Number(delay));
  process.stdout.write(`${proxy.port}\n`);
  process.on('SIGTERM', () => {
    void proxy.close().then(() => process.exit(0));
  });
}
