// /mail check through the real discord.js client and the emulator, with MAIL_HOST naming a port nothing listens on
// (the lab's Knot still answers): the embed says once that the mail host could not be reached, shows the checks that
// need only DNS, lists the others in one field as unknown, and the providers' line says "unknown", not "not met".

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../lab/lab.ts';
import type { InteractionRecord } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';

interface Embed {
  title: string;
  description?: string;
  fields: Array<{ name: string; value: string }>;
}

let h: Harness;

beforeAll(async () => {
  const [closed] = await freePorts(1);
  h = await startHarness({ lab: { dns: true }, env: { MAIL_HOST: `ssh://root@127.0.0.1:${closed}` } });
});

afterAll(async () => {
  await h?.stop();
});

const embedOf = (record: InteractionRecord) => record.original?.embeds[0] as Embed;

describe('/mail check with the mail host unreachable', () => {
  it('says so once, shows the DNS-only checks, and lists what needs the host as unknown in one field', async () => {
    const embed = embedOf(await h.finished(h.emulator.command(h.viewer, 'check', { domain: 'example.test' }), 30_000));
    expect(embed.title).toBe('❌ example.test: the mail host could not be reached');
    expect(JSON.stringify(embed).match(/ECONNREFUSED/g)).toHaveLength(1);
    expect(embed.description).toContain('Cannot connect to the mail host');
    expect(embed.description).toContain('Gmail: unknown (SPF, DKIM, reverse DNS, TLS could not be checked)');
    expect(embed.description).not.toContain('not met');
    expect(embed.fields.map((field) => field.name)).toEqual([
      '⚠️ caa',
      '✅ dmarc',
      '➖ tls-rpt',
      '⏳ unknown: mx, mx-address, ptr, spf, dkim, mta-sts, tls, dnsbl, e2e',
    ]);
    expect(embed.fields.at(-1)?.value).toBe('They need the mail host, which could not be reached (above).');
  });
});
