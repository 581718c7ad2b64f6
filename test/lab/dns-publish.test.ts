// Publishing TXT records (src/dns/) against the lab's real Knot: RFC 2136 UPDATEs signed with TSIG, refusals
// explained, long values split into character-strings, the authoritative check, and the Cloudflare provider
// against a strict local fake that mirrors its records into Knot.

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TsigKey } from '../../src/config.ts';
import { resolverFor } from '../../src/dns/authoritative-servers.ts';
import { CloudflarePublisher } from '../../src/dns/cloudflare.ts';
import { RecordPublishing } from '../../src/dns/publisher.ts';
import { Rfc2136Publisher } from '../../src/dns/rfc2136.ts';
import { verifyRequest } from '../../src/dns/tsig.ts';
import type { TxtRecord } from '../../src/dns/txt.ts';
import { createLogger, Redactor } from '../../src/log.ts';
import { startCloudflareFake, type CloudflareFake } from '../fakes/cloudflare-api.ts';
import { startLab, type Lab } from './lab.ts';

const logger = createLogger({ level: 'silent', redactor: new Redactor() });
const now = () => new Date();
const dkimValue = `v=DKIM1; k=rsa; p=${'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'.repeat(13)}`;

function keyOf(key: Lab['tsig']): TsigKey {
  return { algorithm: key.algorithm as TsigKey['algorithm'], name: key.name, secret: Buffer.from(key.secret, 'base64') };
}

describe("publishing TXT records at the lab's Knot", () => {
  let lab: Lab;
  let server: { host: string; port: number };
  const txtAt = async (name: string) => {
    try {
      return await resolverFor(server).resolveTxt(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND' || (error as NodeJS.ErrnoException).code === 'ENODATA') return [];
      throw error;
    }
  };

  beforeAll(async () => {
    lab = await startLab({
      domains: ['example.test', 'example.org'],
      zones: {
        // A zone with a second name server that never answers: the authoritative check must wait for it and name it.
        'lagging.test':
          '@ SOA ns1.lagging.test. hostmaster.lagging.test. 1 3600 600 86400 60\n@ NS ns1.lagging.test.\n@ NS ns2.lagging.test.\nns1 A 127.0.0.1\nns2 A 127.0.0.2\n',
      },
    });
    server = { host: '127.0.0.1', port: lab.ports.dns };
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it.each(['hmac-sha256', 'hmac-sha384', 'hmac-sha512'])(
    'adds and removes a record with an UPDATE signed %s, which Knot accepts and answers signed',
    async (algorithm) => {
      const key = lab.tsigKeys.find((candidate) => candidate.algorithm === algorithm);
      expect(key).toBeDefined();
      const publisher = new Rfc2136Publisher({ server, key: keyOf(key!), now, logger });
      const record: TxtRecord = { name: `${algorithm}.example.org`, value: `token-${algorithm}`, ttl: 60 };
      await publisher.add(record);
      expect(await txtAt(record.name)).toEqual([[record.value]]);
      expect(await lab.knotc('zone-read', 'example.org', `${record.name}.`, 'TXT')).toContain(`"${record.value}"`);
      await publisher.remove(record);
      expect(await txtAt(record.name)).toEqual([]);
    }
  );

  it('splits a long value into strings of at most 255 bytes, and removing one value keeps the others', async () => {
    const publisher = new Rfc2136Publisher({ server, key: keyOf(lab.tsig), now, logger });
    const long: TxtRecord = { name: 'sel._domainkey.example.test', value: dkimValue, ttl: 300 };
    const other: TxtRecord = { ...long, value: 'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' };
    await publisher.add(long);
    await publisher.add(other);
    const answers = await txtAt(long.name);
    expect(answers).toHaveLength(2);
    const longAnswer = answers.find((strings) => strings.join('') === dkimValue);
    expect(longAnswer?.map((part) => part.length)).toEqual([255, 255, dkimValue.length - 510]);
    await publisher.remove(long);
    expect(await txtAt(long.name)).toEqual([[other.value]]);
    await publisher.remove(other);
  });

  it('reports a wrong TSIG secret clearly, and Knot keeps the zone unchanged', async () => {
    const wrong = { ...keyOf(lab.tsig), secret: Buffer.alloc(32, 7) };
    const publisher = new Rfc2136Publisher({ server, key: wrong, now, logger });
    const record: TxtRecord = { name: 'wrong-key.example.test', value: 'must-not-appear', ttl: 60 };
    const error = await publisher.add(record).then(
      () => undefined,
      (caught: unknown) => caught
    );
    expect(error).toMatchObject({ code: 'dns-update-tsig-refused', kind: 'failed' });
    expect((error as Error).message).toContain('BADSIG');
    expect((error as Error).message).toContain(`key "${lab.tsig.name}"`);
    expect((error as { hint: string }).hint).toContain('RFC2136_TSIG');
    expect(await txtAt(record.name)).toEqual([]);
  });

  it('reports an unknown key name as BADKEY and a skewed clock as BADTIME', async () => {
    const record: TxtRecord = { name: 'refused.example.test', value: 'x', ttl: 60 };
    const unknown = new Rfc2136Publisher({ server, key: { ...keyOf(lab.tsig), name: 'no-such-key' }, now, logger });
    await expect(unknown.add(record)).rejects.toThrow(/BADKEY/);
    const skewed = new Rfc2136Publisher({ server, key: keyOf(lab.tsig), now: () => new Date(Date.now() - 3_600_000), logger });
    await expect(skewed.add(record)).rejects.toThrow(/BADTIME/);
    expect(await txtAt(record.name)).toEqual([]);
  });

  it("computes the same request MAC as Knot's knsupdate", async () => {
    for (const key of lab.tsigKeys) {
      const request = await captureKnsupdate(key);
      expect(verifyRequest(request, keyOf(key))).toBe(true);
      expect(verifyRequest(request, { ...keyOf(key), secret: Buffer.alloc(32, 1) })).toBe(false);
    }
  });

  it('waits until the authoritative server answers with the new value', async () => {
    const publishing = new RecordPublishing(
      new Rfc2136Publisher({ server, key: keyOf(lab.tsig), now, logger }),
      { DNS_RESOLVER: server, RFC2136_SERVER: server },
      logger,
      5000
    );
    const record: TxtRecord = { name: '_acme-challenge.mail.example.test', value: 'challenge-token', ttl: 60 };
    const result = await publishing.publish(record);
    expect(result.zone).toBe('example.test');
    expect(result.servers).toEqual([{ name: 'ns1.example.test', address: '127.0.0.1', port: lab.ports.dns }]);
    await publishing.unpublish(record);
    await publishing.waitUntil(record, false);
  });

  it('fails, naming the server, when one authoritative server never shows the record', async () => {
    const publishing = new RecordPublishing(
      new Rfc2136Publisher({ server, key: keyOf(lab.tsig), now, logger }),
      { DNS_RESOLVER: server, RFC2136_SERVER: server },
      logger,
      2500
    );
    const record: TxtRecord = { name: 'probe.lagging.test', value: 'v', ttl: 60 };
    const error = await publishing.publish(record).then(
      () => undefined,
      (caught: unknown) => caught
    );
    expect(error).toMatchObject({ code: 'dns-not-propagated' });
    expect((error as Error).message).toContain('ns2.lagging.test (127.0.0.2:53) did not answer');
    expect((error as Error).message).not.toContain('ns1.lagging.test');
  });

  describe('an UPDATE whose answer is lost', () => {
    // A relay in front of Knot (TCP and UDP on one port) that can lose the answer to the next TCP exchange after Knot
    // applied it (as a server frozen or a connection cut right after the change), lose the request itself, or stop
    // answering altogether: the three outcomes mailops must tell apart — applied, not applied, unknown.
    let relay: LossyRelay;
    const publisherVia = (settings: { verifyTimeoutMs?: number } = {}) =>
      new Rfc2136Publisher({
        server: { host: '127.0.0.1', port: relay.port },
        key: keyOf(lab.tsig),
        now,
        logger,
        timeoutMs: 700,
        verifyTimeoutMs: settings.verifyTimeoutMs ?? 5000,
      });

    beforeAll(async () => {
      relay = await startLossyRelay(server);
    });

    afterAll(async () => {
      await relay?.close();
    });

    it('finds out from the primary that an add was applied, and a publish reports it published', async () => {
      const record: TxtRecord = { name: 'lost-answer.example.test', value: 'applied-anyway', ttl: 60 };
      const publishing = new RecordPublishing(
        publisherVia(),
        { DNS_RESOLVER: server, RFC2136_SERVER: { host: '127.0.0.1', port: relay.port } },
        logger,
        5000
      );
      relay.next('answer-lost');
      const result = await publishing.publish(record);
      expect(relay.pending()).toBe(0);
      expect(result.zone).toBe('example.test');
      expect(await txtAt(record.name)).toEqual([[record.value]]);
      // The same for a removal whose answer is lost.
      relay.next('answer-lost');
      await publishing.unpublish(record);
      expect(relay.pending()).toBe(0);
      expect(await txtAt(record.name)).toEqual([]);
    });

    it('says "not published" when the UPDATE never reached the server, and "not removed" when a removal did not', async () => {
      const record: TxtRecord = { name: 'lost-request.example.test', value: 'never-applied', ttl: 60 };
      relay.next('request-lost');
      const error = await publisherVia()
        .add(record)
        .then(
          () => undefined,
          (caught: unknown) => caught
        );
      expect(error).toMatchObject({ code: 'dns-update-not-applied' });
      expect((error as Error).message).toMatch(
        /did not answer adding a TXT record at lost-request\.example\.test \(zone example\.test\): .* Asked afterwards, it does not have the record: it was not published\.$/
      );
      expect(await txtAt(record.name)).toEqual([]);

      await publisherVia().add(record);
      relay.next('request-lost');
      await expect(publisherVia().remove(record)).rejects.toThrow('Asked afterwards, it still has the record: it was not removed.');
      expect(await txtAt(record.name)).toEqual([[record.value]]);
      await publisherVia().remove(record);
    });

    it('says the outcome is unknown, naming the record to look at, when the primary cannot be asked afterwards', async () => {
      const record: TxtRecord = { name: 'unknown.example.test', value: 'maybe', ttl: 60 };
      relay.next('answer-lost');
      relay.next('silent');
      relay.next('silent');
      relay.next('silent');
      const error = await publisherVia({ verifyTimeoutMs: 1500 })
        .add(record)
        .then(
          () => undefined,
          (caught: unknown) => caught
        );
      relay.clear();
      expect(error).toMatchObject({ code: 'dns-update-unverified' });
      expect((error as Error).message).toContain('so the record may or may not be published');
      expect((error as { hint: string }).hint).toContain(
        `Look at unknown.example.test TXT on the primary (dig @127.0.0.1 -p ${relay.port} unknown.example.test TXT)`
      );
      // It was in fact applied; a second run is safe and finds it.
      await publisherVia().add(record);
      expect(await txtAt(record.name)).toEqual([[record.value]]);
      await publisherVia().remove(record);
    });
  });

  describe('through the Cloudflare API (a strict local fake)', () => {
    let fake: CloudflareFake;
    const token = 'cf-test-token-0123456789abcdef';

    beforeAll(async () => {
      fake = await startCloudflareFake({
        token,
        zones: ['example.test'],
        mirror: async ({ action, record }) => {
          const strings = record.content.match(/"(?:[^"\\]|\\.)*"/g) ?? [];
          await lab.knotc('zone-begin', 'example.test');
          if (action === 'add') await lab.knotc('zone-set', 'example.test', `${record.name}.`, String(record.ttl), 'TXT', ...strings);
          else await lab.knotc('zone-unset', 'example.test', `${record.name}.`, 'TXT', ...strings);
          await lab.knotc('zone-commit', 'example.test');
        },
      });
    });

    afterAll(async () => {
      await fake?.close();
    });

    it('finds the zone, creates the record in quoted strings, waits for Knot, and deletes it', async () => {
      const publisher = new CloudflarePublisher({ token, logger, baseUrl: fake.baseUrl });
      const publishing = new RecordPublishing(publisher, { DNS_RESOLVER: server }, logger, 5000);
      const record: TxtRecord = { name: 'cf._domainkey.example.test', value: dkimValue, ttl: 300 };
      fake.requests.length = 0;
      await publishing.publish(record);
      const zoneId = fake.zones[0]!.id;
      const createdId = fake.records.get(zoneId)?.[0]?.id;
      const answer = await txtAt(record.name);
      expect(answer.map((strings) => strings.join(''))).toEqual([dkimValue]);
      await publisher.add(record); // already there: nothing is created twice
      await publishing.unpublish(record);
      expect(await txtAt(record.name)).toEqual([]);
      expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
        'GET /client/v4/zones',
        'GET /client/v4/zones',
        'GET /client/v4/zones',
        `GET /client/v4/zones/${zoneId}/dns_records`,
        `POST /client/v4/zones/${zoneId}/dns_records`,
        `GET /client/v4/zones/${zoneId}/dns_records`,
        `GET /client/v4/zones/${zoneId}/dns_records`,
        `DELETE /client/v4/zones/${zoneId}/dns_records/${createdId}`,
      ]);
      expect(fake.requests.slice(0, 3).map((request) => request.query.name)).toEqual([
        'cf._domainkey.example.test',
        '_domainkey.example.test',
        'example.test',
      ]);
      expect(fake.requests[3]?.query).toEqual({ type: 'TXT', name: record.name, per_page: '100' });
      const created = fake.requests[4]?.body as { content: string };
      expect(created).toEqual({ type: 'TXT', name: record.name, content: expect.any(String), ttl: 300 });
      expect(created.content).toBe(`"${dkimValue.slice(0, 255)}" "${dkimValue.slice(255, 510)}" "${dkimValue.slice(510)}"`);
      for (const request of fake.requests) {
        expect(request.headers.authorization).toBe(`Bearer ${token}`);
        if (request.body !== undefined) expect(request.headers['content-type']).toBe('application/json');
      }
      expect(fake.problems).toEqual([]);
    });

    it('updates the TTL of a record that is already there instead of creating a second one', async () => {
      const publisher = new CloudflarePublisher({ token, logger, baseUrl: fake.baseUrl });
      const record: TxtRecord = { name: '_acme-challenge.example.test', value: 'abc', ttl: 120 };
      await publisher.add(record);
      fake.requests.length = 0;
      await publisher.add({ ...record, ttl: 60 });
      const zoneId = fake.zones[0]!.id;
      const records = fake.records.get(zoneId)!.filter((item) => item.name === record.name);
      expect(records).toHaveLength(1);
      expect(records[0]?.ttl).toBe(60);
      expect(fake.requests.map((request) => request.method)).toEqual(['GET', 'PATCH']);
      expect(fake.requests[1]?.body).toEqual({ ttl: 60 });
      await publisher.remove(record);
      expect(fake.records.get(zoneId)!.filter((item) => item.name === record.name)).toEqual([]);
      expect(fake.problems).toEqual([]);
    });

    it('says the token is refused, without showing it', async () => {
      const publisher = new CloudflarePublisher({ token: 'wrong-token-0123456789abcdef', logger, baseUrl: fake.baseUrl });
      const error = await publisher.add({ name: 'x.example.test', value: 'v', ttl: 60 }).then(
        () => undefined,
        (caught: unknown) => caught
      );
      expect(error).toMatchObject({ code: 'cloudflare-unauthorized' });
      expect((error as { hint: string }).hint).toContain('CLOUDFLARE_API_TOKEN');
      expect(JSON.stringify({ message: (error as Error).message, hint: (error as { hint: string }).hint })).not.toContain('wrong-token');
    });

    it('asks the API again when the answer to a create or delete is lost, and reports what happened', async () => {
      const publisher = new CloudflarePublisher({ token, logger, baseUrl: fake.baseUrl, verifyTimeoutMs: 5000 });
      const zoneId = fake.zones[0]!.id;
      const record: TxtRecord = { name: 'lost.example.test', value: 'created-anyway', ttl: 60 };
      const at = () => fake.records.get(zoneId)!.filter((item) => item.name === record.name);
      fake.loseNextAnswer('POST', 'after-applying');
      await publisher.add(record);
      expect(at()).toHaveLength(1);
      fake.loseNextAnswer('DELETE', 'after-applying');
      await publisher.remove(record);
      expect(at()).toEqual([]);
      fake.loseNextAnswer('POST', 'before-applying');
      await expect(publisher.add(record)).rejects.toMatchObject({
        code: 'dns-update-not-applied',
        message: expect.stringContaining('Asked afterwards, the zone does not have the record: it was not published.'),
      });
      expect(at()).toEqual([]);
      expect(fake.problems).toEqual([]);
    });

    it('says which name has no zone on the account', async () => {
      const publisher = new CloudflarePublisher({ token, logger, baseUrl: fake.baseUrl });
      await expect(publisher.add({ name: 'x.example.org', value: 'v', ttl: 60 })).rejects.toMatchObject({
        code: 'cloudflare-zone-not-found',
      });
    });
  });

  /** The UPDATE knsupdate sends with this key, caught by a UDP listener before it reaches any server. */
  async function captureKnsupdate(key: Lab['tsig']): Promise<Buffer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    const received = new Promise<Buffer>((resolve) => socket.once('message', (message) => resolve(message)));
    const child = spawn('knsupdate', ['-y', `${key.algorithm}:${key.name}:${key.secret}`, '-t', '2', '-r', '0'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.stdin.end(`server 127.0.0.1 ${port}\nzone example.test\nupdate add x.example.test 60 TXT "a value" "and another"\nsend\n`);
    try {
      return await received;
    } finally {
      child.kill();
      socket.close();
    }
  }
});

type RelayMode = 'answer-lost' | 'request-lost' | 'silent';

interface LossyRelay {
  port: number;
  /** What happens to the next TCP connection (queued; connections without a plan are relayed both ways). */
  next(mode: RelayMode): void;
  /** Plans not used yet. */
  pending(): number;
  clear(): void;
  close(): Promise<void>;
}

async function startLossyRelay(target: { host: string; port: number }): Promise<LossyRelay> {
  const plans: RelayMode[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    return socket;
  };
  const tcp = net.createServer((client) => {
    track(client);
    const mode = plans.shift();
    if (mode === 'request-lost' || mode === 'silent') {
      client.resume();
      return;
    }
    const upstream = track(net.connect(target));
    client.pipe(upstream);
    if (mode === 'answer-lost') upstream.resume();
    else upstream.pipe(client);
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as net.AddressInfo).port;
  // Queries over UDP (finding the zone) are always relayed.
  const udp = dgram.createSocket('udp4');
  udp.on('message', (message, from) => {
    const upstream = dgram.createSocket('udp4');
    upstream.on('message', (answer) => {
      udp.send(answer, from.port, from.address);
      upstream.close();
    });
    upstream.send(message, target.port, target.host);
    setTimeout(() => {
      try {
        upstream.close();
      } catch {
        /* closed */
      }
    }, 3000).unref();
  });
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  return {
    port,
    next: (mode) => {
      plans.push(mode);
    },
    pending: () => plans.length,
    clear: () => {
      plans.length = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
