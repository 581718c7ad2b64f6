// The scheduler inside the real bot, against the lab (Knot serving the zones) and the Discord emulator: DNS drift is
// alerted once with the on-call mention and recovers without one; the health report posts one embed per domain;
// messages queued while Discord refuses them are delivered once it accepts them — also across a restart of the bot —
// in order and never twice; a job is never stacked on itself.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { jobRuns } from '../../src/store/job-runs.ts';
import { outboxLength } from '../../src/store/outbox.ts';
import { messageText } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';
import type { EmulatedMessage } from './payloads.ts';

const never = '0 0 1 1 *';
const dmarc = {
  'example.test': 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test',
  'example.org': 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org',
};

let h: Harness;
let scheduler: Scheduler;

beforeAll(async () => {
  h = await startHarness({
    lab: { dns: true, domains: ['example.test', 'example.org'] },
    env: { CRON_HEALTH: never, CRON_CERT_WATCH: never, CRON_DNS_DRIFT: never, CRON_REPORTS: never, CRON_DIGEST: never },
    services: (runtime) => [(scheduler = new Scheduler(runtime, { delivery: { pollMs: 100, retryFirstMs: 100, retryMaxMs: 300 } }))],
  });
});

afterAll(async () => {
  await h?.stop();
});

const alerts = (): EmulatedMessage[] => h.emulator.messagesIn(h.channels.alerts);
const posts = (channel: string) =>
  h.emulator.requests.filter((request) => request.method === 'POST' && request.path === `/channels/${channel}/messages`);
const mentions = (message: EmulatedMessage) => message.content.includes(`<@&${h.roles.oncall}>`);

async function setDmarc(domain: keyof typeof dmarc, value: string): Promise<void> {
  await h.lab.knotc('zone-begin', domain);
  await h.lab.knotc('zone-unset', domain, '_dmarc', 'TXT');
  await h.lab.knotc('zone-set', domain, '_dmarc', '60', 'TXT', JSON.stringify(value));
  await h.lab.knotc('zone-commit', domain);
}

/**
 * Waits until the outbox is empty. Delivery marks a message delivered only after Discord took it, and its passes never
 * overlap (schedule/delivery.ts): once the outbox is empty nothing is on its way, so a message posted twice already
 * shows.
 */
async function delivered(): Promise<void> {
  await h.emulator.until(() => outboxLength(h.runtime.database()) === 0, 10_000, 'the outbox to be delivered');
}

describe('dns-drift', () => {
  it('records the accepted state on its first run and posts nothing', async () => {
    await scheduler.run('dns-drift');
    await delivered();
    expect(alerts()).toHaveLength(0);
    expect(jobRuns(h.runtime.database(), 'dns-drift')[0]).toMatchObject({ outcome: 'ok', trigger: 'manual', alerts: 0 });
  });

  it('a DMARC record changed in Knot is one alert naming the record, with the on-call mention', async () => {
    await setDmarc('example.test', 'v=DMARC1; p=none');
    await scheduler.run('dns-drift');
    await delivered();
    expect(alerts()).toHaveLength(1);
    const alert = alerts()[0] as EmulatedMessage;
    expect(mentions(alert)).toBe(true);
    const embed = alert.embeds[0] as { fields: Array<{ name: string; value: string }> };
    expect(embed.fields.map((field) => field.name)).toEqual(['_dmarc.example.test TXT']);
    expect(embed.fields[0]?.value).toContain('expected: "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"');
    expect(embed.fields[0]?.value).toContain('actual:   "v=DMARC1; p=none"');
    // A record that only differs from the accepted state may be accepted: the hint is the Discord command.
    expect(messageText(alert)).toContain('/mail dns-diff domain:example.test accept:true');
    expect(posts(h.channels.alerts).at(-1)?.body).toMatchObject({ allowed_mentions: { parse: [], roles: [h.roles.oncall] } });
  });

  it('the same drift on the next run posts nothing', async () => {
    await scheduler.run('dns-drift');
    await delivered();
    expect(alerts()).toHaveLength(1);
    expect(jobRuns(h.runtime.database(), 'dns-drift')[0]).toMatchObject({ outcome: 'failed', alerts: 0 });
  });

  it('restoring the record posts a recovery, without a mention', async () => {
    await setDmarc('example.test', dmarc['example.test']);
    await scheduler.run('dns-drift');
    await delivered();
    expect(alerts()).toHaveLength(2);
    const recovery = alerts()[1] as EmulatedMessage;
    expect(messageText(recovery)).toContain('DNS of example.test matches what is expected again: _dmarc.example.test TXT');
    expect(mentions(recovery)).toBe(false);
    expect(posts(h.channels.alerts).at(-1)?.body).toMatchObject({ allowed_mentions: { parse: [] } });
  });
});

describe('health', () => {
  it('posts one embed per domain to the health channel, failures first, nobody mentioned', async () => {
    await scheduler.run('health');
    await delivered();
    const reports = h.emulator.messagesIn(h.channels.health);
    expect(reports).toHaveLength(2);
    for (const [index, domain] of ['example.test', 'example.org'].entries()) {
      const report = reports[index] as EmulatedMessage;
      expect(report.content).toBe('');
      expect(report.embeds).toHaveLength(1);
      const embed = report.embeds[0] as { title: string; fields: Array<{ name: string }>; footer: { text: string } };
      expect(embed.title).toContain(domain);
      // The lab serves a self-signed certificate: the TLS checks fail, and failures come first.
      expect(embed.fields[0]?.name).toMatch(/^❌/);
      expect(embed.footer.text).toContain('chasquid 1.15');
    }
    for (const request of posts(h.channels.health)) expect(request.body).toMatchObject({ allowed_mentions: { parse: [] } });
    expect(alerts()).toHaveLength(2);
  });
});

describe('the outbox', () => {
  it('keeps what Discord refuses and delivers it once Discord accepts it again, in order, across a restart of the bot', async () => {
    const before = alerts().length;
    h.emulator.refuseRequests('POST', /^\/channels\/\d+\/messages$/);
    try {
      await setDmarc('example.org', 'v=DMARC1; p=reject');
      await scheduler.run('dns-drift');
      const refused = () => posts(h.channels.alerts).filter((request) => request.status === 503).length;
      await h.emulator.until(() => refused() >= 2, 10_000, 'refused deliveries');
      expect(outboxLength(h.runtime.database())).toBe(1);

      await h.restart();
      await setDmarc('example.org', dmarc['example.org']);
      await scheduler.run('dns-drift');
      const refusedBefore = refused();
      await h.emulator.until(() => refused() > refusedBefore, 10_000, 'refused deliveries after the restart');
      expect(outboxLength(h.runtime.database())).toBe(2);
      expect(alerts()).toHaveLength(before);
    } finally {
      h.emulator.acceptRequests();
    }
    await delivered();
    const added = alerts().slice(before);
    expect(added).toHaveLength(2);
    expect(messageText(added[0] as EmulatedMessage)).toContain('DNS drift in example.org');
    expect(messageText(added[1] as EmulatedMessage)).toContain('DNS of example.org matches what is expected again');
  });

  it('a message whose answer was lost is not posted twice (nonce and enforce_nonce)', async () => {
    const before = alerts().length;
    const requestsBefore = posts(h.channels.alerts).length;
    h.emulator.loseNextResponse('POST', /^\/channels\/\d+\/messages$/);
    await setDmarc('example.test', 'v=DMARC1; p=reject');
    await scheduler.run('dns-drift');
    await delivered();
    const attempts = posts(h.channels.alerts).slice(requestsBefore);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    const nonces = new Set(attempts.map((request) => (request.body as { nonce: string; enforce_nonce: boolean }).nonce));
    expect(nonces.size).toBe(1);
    expect(attempts.every((request) => (request.body as { enforce_nonce?: boolean }).enforce_nonce === true)).toBe(true);
    expect(alerts().slice(before)).toHaveLength(1);
    await setDmarc('example.test', dmarc['example.test']);
    await scheduler.run('dns-drift');
    await delivered();
  });
});

describe('overlap', () => {
  it('a job started while it runs is skipped and reported once, not stacked', async () => {
    const before = alerts().length;
    await Promise.all([scheduler.run('dns-drift'), scheduler.run('dns-drift'), scheduler.run('dns-drift')]);
    await delivered();
    const runs = jobRuns(h.runtime.database(), 'dns-drift', 3);
    expect(runs.map((run) => run.outcome).sort()).toEqual(['ok', 'skipped', 'skipped']);
    const notices = alerts().slice(before);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.content).toContain('Slow job: dns-drift is still running');
    expect(mentions(notices[0] as EmulatedMessage)).toBe(false);
  });
});

describe('/mail dns-diff', () => {
  it('shows a viewer the drift as an embed, naming the record', async () => {
    await setDmarc('example.org', 'v=DMARC1; p=none');
    const record = await h.finished(h.emulator.command(h.viewer, 'dns-diff', { domain: 'example.org' }), 15_000);
    expect(record.text).toContain('example.org: 1 record drifted');
    expect(record.text).toContain('_dmarc.example.org TXT');
    expect(record.text).toContain('actual:   "v=DMARC1; p=none"');
  });

  it('accept:true is a change: a viewer is refused; an admin accepts, which is audited and posted to the audit channel', async () => {
    const refused = await h.finished(h.emulator.command(h.viewer, 'dns-diff', { domain: 'example.org', accept: true }));
    expect(refused.text).toContain('⛔');
    const accepted = await h.finished(h.emulator.command(h.admin, 'dns-diff', { domain: 'example.org', accept: true }), 15_000);
    expect(accepted.text).toContain('example.org: no DNS drift');
    expect(accepted.text).toContain('The current answers are now the accepted state.');
    await h.emulator.until(() => h.auditPosts().includes(`✅ <@${h.admin.id}> \`/mail dns-diff\` \`example.org\`: ok`));
    const after = await h.finished(h.emulator.command(h.viewer, 'dns-diff', { domain: 'example.org' }), 15_000);
    expect(after.text).toContain('example.org: no DNS drift');
  });

  it('an MX that contradicts the mail host: the alert and the reply never offer accept:true, accept:true does not store it, and putting it back is a recovery without a mention', async () => {
    const setMx = async (exchange: string) => {
      await h.lab.knotc('zone-begin', 'example.org');
      await h.lab.knotc('zone-unset', 'example.org', '@', 'MX');
      await h.lab.knotc('zone-set', 'example.org', '@', '60', 'MX', `10 ${exchange}`);
      await h.lab.knotc('zone-commit', 'example.org');
    };
    const before = alerts().length;
    await setMx('mx.elsewhere.test.');
    await scheduler.run('dns-drift');
    await delivered();
    const alert = alerts()[before] as EmulatedMessage;
    expect(mentions(alert)).toBe(true);
    expect(messageText(alert)).toContain('example.org MX contradicts the mail host');
    expect(messageText(alert)).not.toContain('accept:true');
    expect(messageText(alert)).not.toContain('--accept');

    const accepted = await h.finished(h.emulator.command(h.admin, 'dns-diff', { domain: 'example.org', accept: true }), 15_000);
    expect(accepted.text).toContain('except the record below: it contradicts the mail host and was not accepted');
    expect(accepted.text).toContain('example.org MX');
    expect(accepted.text).not.toContain('accept:true');

    await setMx('mail.example.test.');
    const fixed = await h.finished(h.emulator.command(h.viewer, 'dns-diff', { domain: 'example.org' }), 15_000);
    expect(fixed.text).toContain('example.org: no DNS drift');
    await scheduler.run('dns-drift');
    await delivered();
    const added = alerts().slice(before);
    expect(added).toHaveLength(2);
    expect(messageText(added[1] as EmulatedMessage)).toContain('DNS of example.org matches what is expected again: example.org MX');
    expect(mentions(added[1] as EmulatedMessage)).toBe(false);
  }, 60_000);
});
