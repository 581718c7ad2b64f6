// The emulator's gateway: Discord's WebSocket protocol as discord.js 14 (@discordjs/ws 1.x) speaks it, JSON encoding,
// no compression.
//
//   server → op 10 HELLO {heartbeat_interval}
//   client → op 2 IDENTIFY {token, intents, shard}  → op 0 READY (s=1), then GUILD_CREATE for our guild
//   client → op 1 HEARTBEAT                          → op 11 HEARTBEAT_ACK (unless the test turned ACKs off)
//   client → op 6 RESUME {token, session_id, seq}    → the dispatches it missed, then op 0 RESUMED; an unknown session
//                                                      gets op 9 INVALID_SESSION (d: false)
// A session outlives its socket: dispatches sent while no socket is open are kept and replayed on RESUME, as Discord
// does. Interactions go to the most recently identified session.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export interface GatewayPayload {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

export interface GatewayOptions {
  token: string;
  heartbeatIntervalMs: number;
  /** READY's payload for a new session, and the dispatches that follow it (GUILD_CREATE). */
  readyPayload: (sessionId: string) => Record<string, unknown>;
  afterReady: () => Array<{ t: string; d: unknown }>;
}

interface Session {
  id: string;
  sequence: number;
  events: Array<{ s: number; t: string; d: unknown }>;
  socket: WebSocket | undefined;
}

export interface GatewayRecord {
  /** Every payload a client sent, in order, with the path it connected to. */
  received: Array<GatewayPayload & { path: string }>;
  /** How many sockets were opened, identified and resumed; the close code of each closed socket. */
  connections: number;
  closeCodes: number[];
  identifies: number;
  resumes: number;
}

export class Gateway {
  readonly record: GatewayRecord = { received: [], connections: 0, closeCodes: [], identifies: 0, resumes: 0 };
  /** When false, heartbeats go unanswered (a zombie connection, which the client must detect and resume). */
  acknowledgeHeartbeats = true;
  readonly #server = new WebSocketServer({ noServer: true });
  readonly #options: GatewayOptions;
  readonly #sessions = new Map<string, Session>();
  #latest: Session | undefined;

  constructor(options: GatewayOptions) {
    this.#options = options;
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://emulator');
    if (url.searchParams.get('v') !== '10' || url.searchParams.get('encoding') !== 'json' || url.searchParams.has('compress')) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, url.pathname));
  }

  #accept(ws: WebSocket, path: string): void {
    this.record.connections += 1;
    let session: Session | undefined;
    const send = (payload: GatewayPayload) => ws.send(JSON.stringify(payload));
    send({ op: 10, d: { heartbeat_interval: this.#options.heartbeatIntervalMs }, s: null, t: null });
    ws.on('message', (data) => {
      let payload: GatewayPayload;
      try {
        // With ws's default binaryType a message arrives as one Buffer.
        payload = JSON.parse((data as Buffer).toString('utf8')) as GatewayPayload;
      } catch {
        ws.close(4002, 'Decode error');
        return;
      }
      this.record.received.push({ ...payload, path });
      const body = (payload.d ?? {}) as Record<string, unknown>;
      switch (payload.op) {
        case 1:
          if (this.acknowledgeHeartbeats) send({ op: 11 });
          break;
        case 2: {
          if (session) return ws.close(4005, 'Already authenticated');
          if (body.token !== this.#options.token) return ws.close(4004, 'Authentication failed');
          this.record.identifies += 1;
          session = { id: randomBytes(16).toString('hex'), sequence: 0, events: [], socket: ws };
          this.#sessions.set(session.id, session);
          this.#latest = session;
          this.#dispatch(session, 'READY', this.#options.readyPayload(session.id));
          for (const event of this.#options.afterReady()) this.#dispatch(session, event.t, event.d);
          break;
        }
        case 6: {
          const known = typeof body.session_id === 'string' ? this.#sessions.get(body.session_id) : undefined;
          if (body.token !== this.#options.token) return ws.close(4004, 'Authentication failed');
          if (!known) {
            send({ op: 9, d: false });
            return;
          }
          this.record.resumes += 1;
          session = known;
          session.socket = ws;
          const seen = typeof body.seq === 'number' ? body.seq : 0;
          for (const event of session.events.filter((item) => item.s > seen)) send({ op: 0, s: event.s, t: event.t, d: event.d });
          this.#dispatch(session, 'RESUMED', {});
          break;
        }
        default:
          break;
      }
    });
    ws.on('close', (code) => {
      this.record.closeCodes.push(code);
      if (session?.socket === ws) session.socket = undefined;
    });
    ws.on('error', () => {
      /* a dropped socket; the session waits for RESUME */
    });
  }

  #dispatch(session: Session, t: string, d: unknown): void {
    session.sequence += 1;
    const event = { s: session.sequence, t, d };
    session.events.push(event);
    if (session.events.length > 500) session.events.shift();
    session.socket?.send(JSON.stringify({ op: 0, ...event }));
  }

  /** Sends a dispatch to the most recent session (kept for replay when its socket is down). */
  dispatch(t: string, d: unknown): void {
    if (!this.#latest) throw new Error('emulator: no client has identified on the gateway yet');
    this.#dispatch(this.#latest, t, d);
  }

  get connected(): boolean {
    return this.#latest?.socket !== undefined;
  }

  /** Kills the open sockets without a close frame, as a network failure does; sessions stay resumable. */
  dropConnections(): void {
    for (const client of this.#server.clients) client.terminate();
  }

  /** Asks the client to reconnect and resume (op 7). */
  requestReconnect(): void {
    for (const client of this.#server.clients) client.send(JSON.stringify({ op: 7, d: null }));
  }

  close(): void {
    for (const client of this.#server.clients) client.terminate();
    this.#server.close();
  }
}
