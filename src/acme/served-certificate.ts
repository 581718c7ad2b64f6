// The certificate a TLS service of the mail host actually serves. It connects the way a sending server or a mail
// client does — SMTP with STARTTLS on 25 and 587, TLS from the first byte on 465 — with the hostname as SNI, and
// returns the chain, whether it verifies against the trusted CAs, and the protocol; or the step that failed, as a
// value (`probeTls`, for the checks, which judge all of it). `servedCertificate` is the same for certificate
// installation and status, which need the chain and fail with the reason.
// Hand-written because the SMTP needed is four lines (banner, EHLO, STARTTLS, 220) and no npm SMTP client exposes the
// peer chain without sending mail.

import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { describeListener, type Listener, type TlsMode } from '../chasquid/listeners.ts';
import { failedError } from '../errors.ts';

export type TlsProbe =
  | { ok: true; certificates: X509Certificate[]; authorized: boolean; authorizationError: string | undefined; protocol: string }
  | { ok: false; stage: 'connect' | 'smtp' | 'starttls' | 'handshake'; error: string };

export interface TlsProbeOptions {
  address: string;
  port: number;
  mode: TlsMode;
  /** SNI, and the name the EHLO greets with. */
  servername: string;
  timeoutMs?: number;
  /** Extra trusted CA certificates (PEM), added to the default ones. */
  extraCa?: string[];
}

/** Reads SMTP replies (`250-…` continuation lines up to `250 …`) from a socket. */
function replyReader(socket: net.Socket): () => Promise<string> {
  let buffer = '';
  const waiting: Array<{ resolve: (reply: string) => void; reject: (error: Error) => void }> = [];
  const replies: string[] = [];
  let failure: Error | undefined;
  const flush = () => {
    for (;;) {
      const lines = buffer.split('\r\n');
      const end = lines.findIndex((line) => /^[0-9]{3}( |$)/.test(line));
      if (end < 0 || end >= lines.length - 1) return;
      replies.push(lines.slice(0, end + 1).join('\n'));
      buffer = lines.slice(end + 1).join('\r\n');
      while (replies.length > 0 && waiting.length > 0) waiting.shift()?.resolve(replies.shift() ?? '');
    }
  };
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    flush();
  };
  const onEnd = (error?: Error) => {
    failure = error ?? new Error('the server closed the connection');
    while (waiting.length > 0) waiting.shift()?.reject(failure);
  };
  socket.on('data', onData);
  socket.once('error', onEnd);
  socket.once('close', () => onEnd());
  return () =>
    new Promise<string>((resolve, reject) => {
      const reply = replies.shift();
      if (reply !== undefined) return resolve(reply);
      if (failure) return reject(failure);
      waiting.push({ resolve, reject });
    });
}

function trustStore(extraCa: string[] | undefined): string[] | undefined {
  if (extraCa === undefined || extraCa.length === 0) return undefined;
  return [...tls.getCACertificates('default'), ...extraCa];
}

function handshake(options: tls.ConnectionOptions, sockets: net.Socket[]): Promise<TlsProbe> {
  return new Promise((resolve) => {
    // Inspecting, not trusting: the chain is still verified (socket.authorized / authorizationError are reported),
    // but a certificate that fails must be read to say why; nothing is sent over this connection.
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    sockets.push(socket);
    socket.once('secureConnect', () => {
      const chain = chainOf(socket);
      const error = socket.authorizationError;
      resolve({
        ok: true,
        certificates: chain,
        authorized: socket.authorized,
        authorizationError: error === null || error === undefined ? undefined : String(error),
        protocol: socket.getProtocol() ?? 'unknown',
      });
      socket.end();
    });
    socket.once('error', (error: Error) => resolve({ ok: false, stage: 'handshake', error: error.message }));
  });
}

export async function probeTls(options: TlsProbeOptions): Promise<TlsProbe> {
  const timeoutMs = options.timeoutMs ?? 8000;
  const ca = trustStore(options.extraCa);
  // SNI carries names only (RFC 6066); an address is not sent.
  const tlsOptions: tls.ConnectionOptions = {
    ...(net.isIP(options.servername) === 0 ? { servername: options.servername } : {}),
    ...(ca ? { ca } : {}),
  };
  const sockets: net.Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<TlsProbe>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, stage: 'connect', error: `no answer within ${timeoutMs / 1000} s` }), timeoutMs);
  });
  const work = (async (): Promise<TlsProbe> => {
    if (options.mode === 'tls') return handshake({ ...tlsOptions, host: options.address, port: options.port }, sockets);
    const socket = net.connect({ host: options.address, port: options.port });
    sockets.push(socket);
    const connected = await new Promise<string | undefined>((resolve) => {
      socket.once('connect', () => resolve(undefined));
      socket.once('error', (error) => resolve(error.message));
    });
    if (connected !== undefined) return { ok: false, stage: 'connect', error: connected };
    const next = replyReader(socket);
    try {
      const banner = await next();
      if (!banner.startsWith('220')) return { ok: false, stage: 'smtp', error: `unexpected greeting: ${banner.split('\n')[0]}` };
      socket.write(`EHLO ${options.servername}\r\n`);
      const ehlo = await next();
      if (!ehlo.startsWith('250')) return { ok: false, stage: 'smtp', error: `EHLO refused: ${ehlo.split('\n')[0]}` };
      if (!/^250[ -]STARTTLS\b/im.test(ehlo)) return { ok: false, stage: 'starttls', error: 'the server does not offer STARTTLS' };
      socket.write('STARTTLS\r\n');
      const ready = await next();
      if (!ready.startsWith('220')) return { ok: false, stage: 'starttls', error: `STARTTLS refused: ${ready.split('\n')[0]}` };
    } catch (error) {
      return { ok: false, stage: 'smtp', error: (error as Error).message };
    }
    socket.removeAllListeners('data');
    return handshake({ ...tlsOptions, socket }, sockets);
  })();
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    // The TLS socket first, which closes the connection under it (STARTTLS); each only once. Destroying the raw socket
    // under a live TLS socket crashed Node 24 here (SIGSEGV).
    for (const socket of sockets.reverse()) if (!socket.destroyed) socket.destroy();
  }
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

export interface ServedCertificate {
  listener: Listener;
  /** Leaf first. */
  chain: X509Certificate[];
}

/** The chain `listener` serves for `servername`; fails with the reason when it cannot be had. */
export async function servedCertificate(listener: Listener, servername: string, timeoutMs = 10_000): Promise<ServedCertificate> {
  const probe = await probeTls({ address: listener.host, port: listener.port, mode: listener.mode, servername, timeoutMs });
  const reason = !probe.ok
    ? `${probe.stage === 'handshake' ? 'TLS handshake failed' : probe.stage}: ${probe.error}`
    : probe.certificates.length === 0
      ? 'it sent no certificate'
      : undefined;
  if (reason !== undefined || !probe.ok) {
    throw failedError('tls-probe-failed', `Could not read the certificate served by ${describeListener(listener)} (${reason}).`, {
      hint: 'Check that chasquid runs and that this machine can reach that address.',
    });
  }
  return { listener, chain: probe.certificates };
}
