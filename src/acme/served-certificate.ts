// The certificate a TLS listener actually serves: connect, (for SMTP and submission) say EHLO and STARTTLS, finish the
// TLS handshake with the hostname as SNI, and take the peer's chain. The chain is not judged here — an expired or
// self-signed certificate must still be seen to be reported — so verification is off for this connection only.
//
// The SMTP exchange is written by hand: it is four commands, and mail libraries do not hand out the peer certificate.

import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Listener } from '../chasquid/listeners.ts';
import { describeListener } from '../chasquid/listeners.ts';
import { failedError } from '../errors.ts';

export interface ServedCertificate {
  listener: Listener;
  /** Leaf first. */
  chain: X509Certificate[];
}

/** Reads SMTP replies off a socket: resolves with the complete reply (all its lines) each time one ends. */
class SmtpReader {
  #buffer = '';
  #waiting: ((reply: string) => void) | undefined;
  #replies: string[] = [];

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('latin1');
      let match: RegExpExecArray | null;
      // A reply ends with a line "ddd text" (a space after the code); "ddd-text" lines continue it.
      while ((match = /^((?:[0-9]{3}-[^\n]*\n)*[0-9]{3}(?: [^\n]*)?\r?\n)/.exec(this.#buffer)) !== null) {
        this.#buffer = this.#buffer.slice(match[1]!.length);
        this.#replies.push(match[1]!);
      }
      this.#deliver();
    });
  }

  #deliver(): void {
    if (this.#waiting && this.#replies.length > 0) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting(this.#replies.shift() as string);
    }
  }

  next(): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#deliver();
    });
  }
}

async function startTls(socket: net.Socket, where: string): Promise<void> {
  const reader = new SmtpReader(socket);
  const expect = async (code: string, step: string) => {
    const reply = await reader.next();
    if (!reply.startsWith(code)) throw new Error(`${where} answered ${step} with "${reply.trim().split('\n')[0]?.slice(0, 120)}"`);
    return reply;
  };
  await expect('220', 'the connection');
  socket.write('EHLO mailops.invalid\r\n');
  const capabilities = await expect('250', 'EHLO');
  if (!/^250[- ]STARTTLS\b/im.test(capabilities)) throw new Error(`${where} does not offer STARTTLS`);
  socket.write('STARTTLS\r\n');
  await expect('220', 'STARTTLS');
  socket.removeAllListeners('data');
}

/** The chain a TLS socket received, leaf first (each certificate once). */
export function chainOf(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let peer: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (peer?.raw && !seen.has(peer.fingerprint256)) {
    seen.add(peer.fingerprint256);
    chain.push(new X509Certificate(peer.raw));
    peer = peer.issuerCertificate;
  }
  return chain;
}

/** The chain `listener` serves for `servername`; fails with the reason when it cannot be had. */
export async function servedCertificate(listener: Listener, servername: string, timeoutMs = 10_000): Promise<ServedCertificate> {
  const where = describeListener(listener);
  const socket = net.connect({ host: listener.host, port: listener.port });
  socket.setTimeout(timeoutMs);
  try {
    return await new Promise<ServedCertificate>((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      socket.once('timeout', () => fail(new Error(`${where} did not answer within ${Math.round(timeoutMs / 1000)} s`)));
      socket.once('error', (error: NodeJS.ErrnoException) => fail(new Error(`${where}: ${error.code ?? error.message}`)));
      socket.once('connect', () => {
        const handshake = listener.mode === 'starttls' ? startTls(socket, where) : Promise.resolve();
        handshake.then(() => {
          // Inspecting, not trusting: only the certificate is read (its fingerprint is compared with the installed
          // one by the caller), nothing is sent; a chain that does not verify must still be seen to be reported.
          const secure = tls.connect({ socket, servername: net.isIP(servername) === 0 ? servername : undefined, rejectUnauthorized: false });
          secure.once('error', (error) => fail(new Error(`${where}: TLS handshake failed (${error.message})`)));
          secure.once('secureConnect', () => {
            const chain = chainOf(secure);
            secure.end();
            if (chain.length === 0) fail(new Error(`${where} sent no certificate`));
            else resolve({ listener, chain });
          });
        }, fail);
      });
    });
  } catch (error) {
    throw failedError('tls-probe-failed', `Could not read the certificate served by ${where}: ${(error as Error).message}.`,
      { hint: 'Check that chasquid runs and that this machine can reach that address.', cause: error });
  } finally {
    socket.destroy();
  }
}
