// A local stand-in for Cloudflare's DNS API (v4), strict about every request: the method and path must be one of
// the documented endpoints mailops uses, the Authorization header must carry the token, bodies must be JSON of the
// documented shape (TXT content as quoted character-strings of at most 255 bytes). Anything else is answered the
// way Cloudflare answers it and listed in `problems`, which tests expect to be empty.
// Optionally mirrors each change into a real DNS server (the lab's Knot), so that propagation checks see it.

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRecord {
  id: string;
  type: 'TXT';
  name: string;
  content: string;
  ttl: number;
}
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface CloudflareFake {
  baseUrl: string;
  zones: Array<{ id: string; name: string }>;
  records: Map<string, FakeRecord[]>;
  requests: SeenRequest[];
  problems: string[];
  /**
   * The next request with this method loses its answer: the connection is closed without one, after the fake carried
   * the request out (`after-applying`) or without doing anything (`before-applying`).
   */
  loseNextAnswer(method: string, when: 'after-applying' | 'before-applying'): void;
  close(): Promise<void>;
}

export interface FakeOptions {
  token: string;
  zones: string[];
  /** Called after a record is created or deleted (to mirror it into a real DNS server). */
  mirror?: (change: { action: 'add' | 'delete'; record: FakeRecord }) => Promise<void>;
}

/** The strings of TXT content in the quoted form, or undefined when the content is not in that form. */
function quotedStrings(content: string): Buffer[] | undefined {
  const strings: Buffer[] = [];
  const pattern = /\s*"((?:[^"\\]|\\[0-9]{3}|\\.)*)"/y;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = pattern.exec(content)) !== null) {
    strings.push(
      Buffer.from(
        (match[1] ?? '').replace(/\\([0-9]{3})/g, (_, digits: string) => String.fromCharCode(Number(digits))).replace(/\\(.)/g, '$1'),
        'latin1'
      )
    );
    end = pattern.lastIndex;
  }
  return end === content.length && strings.length > 0 ? strings : undefined;
}

export async function startCloudflareFake(options: FakeOptions): Promise<CloudflareFake> {
  const zones = options.zones.map((name) => ({ id: randomBytes(16).toString('hex'), name }));
  const records = new Map<string, FakeRecord[]>(zones.map((zone) => [zone.id, []]));
  const requests: SeenRequest[] = [];
  const problems: string[] = [];

  const losing: Array<{ method: string; when: 'after-applying' | 'before-applying' }> = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const lose = losing.findIndex((entry) => entry.method === request.method);
      if (lose >= 0) {
        const when = losing.splice(lose, 1)[0]?.when;
        if (when === 'before-applying') {
          response.socket?.destroy();
          return;
        }
        void handle(request, Buffer.concat(chunks).toString('utf8')).then(() => response.socket?.destroy());
        return;
      }
      void handle(request, Buffer.concat(chunks).toString('utf8')).then(([status, body]) => {
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(body));
      });
    });
  });

  const fail = (status: number, code: number, message: string, problem?: string): [number, unknown] => {
    if (problem) problems.push(problem);
    return [status, { success: false, errors: [{ code, message }], messages: [], result: null }];
  };
  const ok = (result: unknown): [number, unknown] => [200, { success: true, errors: [], messages: [], result }];

  async function handle(request: http.IncomingMessage, text: string): Promise<[number, unknown]> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    let body: unknown;
    const seen: SeenRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      body: undefined,
    };
    requests.push(seen);
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      return fail(
        403,
        10000,
        'Authentication error',
        request.headers.authorization?.startsWith('Bearer ') ? undefined : `${method} ${url.pathname}: no Bearer token`
      );
    }
    if (text !== '') {
      if (request.headers['content-type'] !== 'application/json')
        return fail(400, 6003, 'Invalid request headers', `${method} ${url.pathname}: body without Content-Type: application/json`);
      try {
        body = JSON.parse(text);
        seen.body = body;
      } catch {
        return fail(400, 6007, 'Malformed JSON in request body', `${method} ${url.pathname}: malformed JSON`);
      }
    }
    const path = url.pathname.replace(/^\/client\/v4/, '');
    if (method === 'GET' && path === '/zones') {
      const unknown = [...url.searchParams.keys()].filter((key) => key !== 'name');
      if (unknown.length > 0 || !url.searchParams.has('name')) problems.push(`GET /zones with unexpected query ${url.search}`);
      return ok(zones.filter((zone) => zone.name === url.searchParams.get('name')));
    }
    const match = /^\/zones\/([0-9a-f]{32})\/dns_records(?:\/([0-9a-f]{32}))?$/.exec(path);
    const zoneRecords = match ? records.get(match[1] ?? '') : undefined;
    if (!match || !zoneRecords) return fail(404, 7003, 'Could not route to the path', `${method} ${url.pathname}: no such endpoint`);
    const recordId = match[2];
    if (method === 'GET' && recordId === undefined) {
      const allowed = new Set(['type', 'name', 'per_page']);
      for (const key of url.searchParams.keys()) if (!allowed.has(key)) problems.push(`GET dns_records with unexpected parameter ${key}`);
      return ok(
        zoneRecords.filter(
          (record) =>
            (!url.searchParams.has('type') || record.type === url.searchParams.get('type')) &&
            (!url.searchParams.has('name') || record.name === url.searchParams.get('name'))
        )
      );
    }
    if (method === 'POST' && recordId === undefined) {
      const input = body as Partial<FakeRecord> | undefined;
      const keys = Object.keys(input ?? {})
        .sort()
        .join(',');
      const strings = typeof input?.content === 'string' ? quotedStrings(input.content) : undefined;
      if (
        keys !== 'content,name,ttl,type' ||
        input?.type !== 'TXT' ||
        typeof input.name !== 'string' ||
        !Number.isInteger(input.ttl) ||
        !(input.ttl === 1 || ((input.ttl ?? 0) >= 30 && (input.ttl ?? 0) <= 86400))
      ) {
        return fail(400, 9000, 'DNS record invalid', `POST dns_records with an invalid body ${JSON.stringify(input)}`);
      }
      if (!strings || strings.some((part) => part.length > 255)) {
        return fail(
          400,
          9000,
          'TXT content must be quoted character-strings of at most 255 bytes',
          `POST dns_records with content not split into quoted strings of ≤255 bytes`
        );
      }
      const record: FakeRecord = {
        id: randomBytes(16).toString('hex'),
        type: 'TXT',
        name: input.name,
        content: input.content as string,
        ttl: input.ttl as number,
      };
      zoneRecords.push(record);
      await options.mirror?.({ action: 'add', record });
      return ok(record);
    }
    const record = zoneRecords.find((item) => item.id === recordId);
    if (!record) return fail(404, 81044, 'Record does not exist.', `${method} ${url.pathname}: no such record`);
    if (method === 'PATCH') {
      const input = body as Record<string, unknown> | undefined;
      if (!input || Object.keys(input).some((key) => !['ttl', 'content', 'name', 'type'].includes(key))) {
        return fail(400, 9000, 'DNS record invalid', `PATCH with an invalid body ${JSON.stringify(input)}`);
      }
      Object.assign(record, input);
      return ok(record);
    }
    if (method === 'DELETE') {
      if (text !== '') problems.push('DELETE with a body');
      zoneRecords.splice(zoneRecords.indexOf(record), 1);
      await options.mirror?.({ action: 'delete', record });
      return ok({ id: record.id });
    }
    return fail(405, 10405, 'Method not allowed', `${method} ${url.pathname}: method not allowed`);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    zones,
    records,
    requests,
    problems,
    loseNextAnswer: (method, when) => {
      losing.push({ method, when });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
