// ACME_PROFILE and `replaces` in the order, against a small ACME server of this test: it serves a directory (with or
// without `meta.profiles`), nonces and accounts, records the payload of each new order and then refuses it, so that
// what mailops sends is what is checked. pebble 2.6 (the lab's) offers no profiles; test/lab/ari.test.ts shows
// `replaces` accepted by a real CA.

import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordPublishing } from '../dns/publisher.ts';
import { MailopsError } from '../errors.ts';
import { createLogger, Redactor } from '../log.ts';
import { issueCertificate, type AcmeSettings } from './client.ts';

interface FakeCa {
  url: string;
  /** Every request, as "METHOD path". */
  requests: string[];
  /** The payloads of the new orders. */
  orders: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function fakeCa(profiles: Record<string, string> | undefined): Promise<FakeCa> {
  const requests: string[] = [];
  const orders: Array<Record<string, unknown>> = [];
  let nonce = 0;
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      requests.push(`${request.method} ${request.url}`);
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      response.setHeader('replay-nonce', `nonce-${++nonce}`);
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers });
        response.end(JSON.stringify(value));
      };
      if (request.url === '/dir') {
        json(200, {
          newNonce: `${base}/nonce`,
          newAccount: `${base}/account`,
          newOrder: `${base}/order`,
          revokeCert: `${base}/revoke`,
          keyChange: `${base}/key-change`,
          meta: { termsOfService: 'data:text/plain,test', ...(profiles === undefined ? {} : { profiles }) },
        });
      } else if (request.url === '/nonce') {
        response.writeHead(200).end();
      } else if (request.url === '/account') {
        json(201, { status: 'valid' }, { location: `${base}/account/1` });
      } else if (request.url === '/order') {
        const jws = JSON.parse(body) as { payload: string };
        orders.push(JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as Record<string, unknown>);
        json(403, { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'this test CA issues nothing' });
      } else json(404, { type: 'urn:ietf:params:acme:error:malformed', detail: 'not here' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`,
    requests,
    orders,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const logger = createLogger({
  level: 'silent',
  redactor: new Redactor(),
  destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
});
const noPublishing: RecordPublishing = {
  publish: () => Promise.reject(new Error('no challenge is published in this test')),
  unpublish: () => Promise.resolve(),
} as unknown as RecordPublishing;

let ca: FakeCa | undefined;
afterEach(async () => {
  await ca?.close();
  ca = undefined;
});

function settings(url: string, profile: string | undefined): AcmeSettings {
  return {
    directoryUrl: url,
    email: 'postmaster@example.test',
    accountKeyFile: path.join(mkdtempSync(path.join(os.tmpdir(), 'mailops-acme-')), 'account-key.pem'),
    ...(profile === undefined ? {} : { profile }),
  };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error
  );

describe('ACME_PROFILE and replaces', () => {
  it('sends the profile and `replaces` with the order when the CA offers that profile', async () => {
    ca = await fakeCa({ classic: 'the usual 90 days', tlsserver: 'TLS server only, 90 days', shortlived: '6 days' });
    const error = await failure(
      issueCertificate(settings(ca.url, 'shortlived'), ['mail.example.test'], noPublishing, logger, undefined, {
        replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      })
    );
    expect(error).toMatchObject({ code: 'acme-failed' });
    expect(ca.orders).toEqual([
      {
        identifiers: [{ type: 'dns', value: 'mail.example.test' }],
        profile: 'shortlived',
        replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      },
    ]);
  });

  it('sends no profile when ACME_PROFILE is unset, or when the CA offers no profiles', async () => {
    ca = await fakeCa({ classic: 'the usual 90 days' });
    await failure(issueCertificate(settings(ca.url, undefined), ['mail.example.test'], noPublishing, logger));
    expect(ca.orders).toEqual([{ identifiers: [{ type: 'dns', value: 'mail.example.test' }] }]);
    await ca.close();

    ca = await fakeCa(undefined);
    await failure(issueCertificate(settings(ca.url, 'tlsserver'), ['mail.example.test'], noPublishing, logger));
    expect(ca.orders).toEqual([{ identifiers: [{ type: 'dns', value: 'mail.example.test' }] }]);
  });

  it('stops with a configuration error (exit 2) naming the profiles the CA offers, before any order', async () => {
    ca = await fakeCa({ classic: 'the usual 90 days', tlsserver: 'TLS server only' });
    const error = await failure(issueCertificate(settings(ca.url, 'shortlived'), ['mail.example.test'], noPublishing, logger));
    expect(error).toBeInstanceOf(MailopsError);
    expect(error).toMatchObject({ code: 'acme-profile-unknown', exitCode: 2 });
    expect((error as Error).message).toContain('ACME_PROFILE is shortlived');
    expect((error as Error).message).toContain('classic (the usual 90 days), tlsserver (TLS server only)');
    expect((error as MailopsError).hint).toContain('one of classic, tlsserver');
    expect(ca.orders).toEqual([]);
    expect(ca.requests).toEqual(['GET /dir']);
  });
});
