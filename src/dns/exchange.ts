// One DNS request and its answer over TCP (RFC 1035 §4.2.2: each message prefixed by its 16-bit length).
// TCP rather than UDP for UPDATEs: no size limit for long DKIM records, no retransmission that could apply a
// change twice, and an answer that cannot be spoofed by an off-path sender.

import net from 'node:net';
import type { HostPort } from '../config.ts';
import { failedError } from '../errors.ts';

export function formatServer(server: HostPort): string {
  return net.isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

export function exchangeTcp(server: HostPort, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const where = formatServer(server);
    const socket = net.connect({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, answer?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer as Buffer);
    };
    const timer = setTimeout(
      () =>
        finish(
          failedError('dns-server-timeout', `The DNS server ${where} did not answer within ${Math.round(timeoutMs / 1000)} s.`, {
            hint: 'Check that the server is running and reachable from this machine over TCP.',
          })
        ),
      timeoutMs
    );
    socket.setNoDelay(true);
    socket.once('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        finish(undefined, Buffer.from(received.subarray(2, 2 + received.readUInt16BE(0))));
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish(
        failedError('dns-server-unreachable', `Cannot reach the DNS server ${where}: ${error.code ?? error.message}.`, {
          hint: 'Check the address and port, and that the server accepts TCP connections from this machine.',
          cause: error,
        })
      )
    );
    socket.once('close', () =>
      finish(
        failedError('dns-server-closed', `The DNS server ${where} closed the connection without an answer.`, {
          hint: 'The server may not accept requests from this machine; check its access rules.',
        })
      )
    );
  });
}
