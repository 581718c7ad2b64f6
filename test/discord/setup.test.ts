// /mail setup through the real discord.js client and the emulator, against a fresh lab host (chasquid without a
// certificate) and a zone of SOA, NS and the host address: the plan is the question; another admin's Confirm does
// nothing; the invoker's Confirm applies it. The sender's password reaches Discord only in ephemeral messages.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zone } from '../lab/check-zones.ts';
import { buttonIds, type InteractionRecord } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import { isEphemeral } from './payloads.ts';

const domain = 'example.test';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    lab: {
      dns: true,
      acme: true,
      certificate: false,
      createDomainDirs: false,
      domains: [domain],
      zones: { [domain]: zone(domain, ['mail A 127.0.0.1']) },
    },
  });
});

afterAll(async () => {
  await h?.stop();
});

const zoneNow = () => h.lab.knotc('zone-read', domain);
const confirmAs = (user: Harness['admin'], record: InteractionRecord) =>
  h.finished(h.emulator.press(user, record.original, buttonIds(record.original)[0] as string), 90_000);

describe('/mail setup', () => {
  it("shows the plan, ignores another admin's Confirm, and applies it on the invoker's", async () => {
    const before = await zoneNow();
    const record = await h.finished(
      h.emulator.command(h.admin, 'setup', { domain, 'forward-to': 'me@gmail.example', sender: `me@${domain}` }),
      30_000
    );
    expect(record.text).toContain(`Set up \`${domain}\``);
    expect(record.text).toContain(`add ${domain} MX: (none) →`);
    expect(await zoneNow()).toBe(before);

    const intruder = await confirmAs(h.otherAdmin, record);
    expect(intruder.text).toBe(`Only <@${h.admin.id}>, who ran the command, can answer this.`);
    expect(await zoneNow()).toBe(before);

    await confirmAs(h.admin, record);
    await h.finished(record, 90_000);
    const embed = record.original?.embeds[0] as { title: string; description: string };
    expect(embed.title).toBe(`Set-up of ${domain}`);
    expect(embed.description).toContain('✅ done  dns:');
    expect(embed.description).toContain('✅ done  certificate:');
    expect(embed.description).toContain('✅ done  sender:');
    expect(await zoneNow()).toContain(`${domain}. 3600 MX 10 mail.${domain}.`);

    // The generated password was sent, and only in ephemeral messages.
    const carrying = h.emulator.requests.filter((request) => JSON.stringify(request.body ?? '').includes('Password for me@'));
    expect(carrying.length).toBeGreaterThan(0);
    for (const request of carrying)
      expect(isEphemeral((request.body as { flags?: number }).flags), `${request.method} ${request.path}`).toBe(true);
    await h.emulator.until(() => h.auditPosts().includes(`✅ <@${h.admin.id}> \`/mail setup\` \`${domain}\`: ok`));
  });
});
