// DMARC and TLS reports end to end: reports in the shapes real reporters send (Google's zip, Microsoft's gzip, plain
// XML, a gzipped TLS report; test/reports/fixtures.ts) are mailed through the lab's chasquid to the report address,
// spooled on the host, stored by the reports job, and shown by `mailops reports`, `/mail reports` and the weekly
// digest posted to the health channel of the Discord emulator. A malformed report, a zip bomb and a billion-laughs XML
// are set aside without harm (each reported once); the same report twice counts once; mail from this host failing
// DKIM alignment at a receiver is one alert; a second run stores nothing new.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import {
  billionLaughsReport,
  googleZipReport,
  malformedReport,
  microsoftGzipReport,
  plainXmlReport,
  tlsRptGzipReport,
  zipBombReport,
} from '../reports/fixtures.ts';
import { deliverRawOnceAccepted } from '../smtp.ts';
import { waitFor } from '../wait.ts';
import { messageText } from './emulator.ts';
import { startHarness, type Harness } from './harness.ts';

const domain = 'example.test';
const to = `mailops-reports@${domain}`;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ lab: { dns: true } });
});

afterAll(async () => {
  await h?.stop();
});

const cli = (...args: string[]) => runCli(args, { cwd: h.lab.dir, env: harnessEnv() });

function harnessEnv(): Record<string, string> {
  return {
    ...h.lab.env,
    ...h.emulator.env,
    ALERT_CHANNEL_ID: h.channels.alerts,
    HEALTH_CHANNEL_ID: h.channels.health,
    ONCALL_ROLE_ID: h.roles.oncall,
  };
}

const spool = () => path.join(h.lab.dir, 'var/lib/chasquid/mailops-reports');
const spooled = () => readdirSync(spool()).filter((name) => name.endsWith('.eml'));

interface JobJson {
  ok: boolean;
  alerts: Array<{ kind: string; message: string; page: boolean }>;
  stored: { dmarc: number; tlsrpt: number };
  duplicates: number;
  setAside: Array<{ reason: string }>;
  reportAddressCreated: string[];
}

describe('reports from receivers', () => {
  it('the reports job gives every domain its report address, owned by mailops', async () => {
    const run = await cli('run-job', 'reports', '--json');
    const result = JSON.parse(run.stdout) as JobJson;
    expect(result.reportAddressCreated, run.stderr).toEqual(['example.test', 'example.org']);
    const aliases = JSON.parse((await cli('aliases', domain, '--json')).stdout) as {
      aliases: Array<{ address: string; mailopsOwned?: boolean }>;
    };
    expect(aliases.aliases.find((alias) => alias.address === to)).toMatchObject({ mailopsOwned: true });
    // mailops's own pipe alias is not for people to change.
    const removal = await cli('alias-remove', to, '--yes');
    expect(removal.code).toBe(2);
    expect(removal.stderr).toContain("one of mailops's own addresses");
    const replacement = await cli('alias-set', to, 'someone@example.org', '--yes');
    expect(replacement.code).toBe(2);
    expect(replacement.stderr).toContain("one of mailops's own addresses");
  });

  it('stores the reports mailed to it once each, sets hostile ones aside, and raises one DKIM alignment alert', async () => {
    const since = new Date(Date.now() - 2 * 24 * 3_600_000);
    const period = { begin: since, end: new Date(Date.now() - 3_600_000) };
    const google = googleZipReport({
      to,
      domain,
      reportId: 'google-1',
      ...period,
      records: [
        { sourceIp: '127.0.0.1', count: 20, dkim: 'fail', spf: 'pass' },
        { sourceIp: '198.51.100.7', count: 1, dkim: 'fail', spf: 'fail' },
      ],
    });
    const messages = [
      google,
      microsoftGzipReport({
        to,
        domain,
        reportId: 'microsoft-1',
        ...period,
        records: [{ sourceIp: '127.0.0.1', count: 10, dkim: 'pass', spf: 'pass' }],
      }),
      plainXmlReport({
        to,
        domain,
        reportId: 'yahoo-1',
        ...period,
        records: [{ sourceIp: '127.0.0.1', count: 5, dkim: 'pass', spf: 'pass' }],
      }),
      tlsRptGzipReport({
        to,
        domain,
        reportId: 'tls-1',
        ...period,
        policies: [
          {
            policyType: 'sts',
            policyDomain: domain,
            success: 10,
            failure: 1,
            failureDetails: [{ resultType: 'certificate-expired', count: 1 }],
          },
        ],
      }),
      google,
      malformedReport(to),
      zipBombReport(to, 'lying-headers'),
      billionLaughsReport(to),
    ];
    for (const raw of messages) await deliverRawOnceAccepted(h.lab, 'reporter@sender.invalid', to, raw);
    await waitFor('chasquid to spool every report', () => spooled().length === messages.length, { timeoutMs: 20_000, intervalMs: 200 });

    const run = await cli('run-job', 'reports', '--json');
    const result = JSON.parse(run.stdout) as JobJson;
    expect(result.stored, run.stderr).toEqual({ dmarc: 3, tlsrpt: 1 });
    expect(result.duplicates).toBe(1);
    expect(result.setAside).toHaveLength(3);
    expect(result.alerts.filter((alert) => alert.kind === 'dmarc-misaligned')).toHaveLength(1);
    expect(result.alerts.find((alert) => alert.kind === 'dmarc-misaligned')?.message).toContain('DKIM');
    expect(result.alerts.filter((alert) => alert.kind === 'tls-report-failures')).toHaveLength(1);
    expect(spooled()).toEqual([]);
    // Posted: the two alerts and one notice per set-aside message, in the alert channel.
    const posted = h.emulator.messagesIn(h.channels.alerts).map(messageText).join('\n');
    expect(posted).toContain('DKIM alignment');
    expect(posted.match(/set aside/g)).toHaveLength(3);

    // Again, with nothing new: nothing stored, nothing alerted.
    const again = JSON.parse((await cli('run-job', 'reports', '--json')).stdout) as JobJson;
    expect(again.stored).toEqual({ dmarc: 0, tlsrpt: 0 });
    expect(again.alerts).toEqual([]);
    expect(again.setAside).toEqual([]);
  });

  it("notes the recoveries: later reports with this host's mail aligned and no TLS failures", async () => {
    const period = { begin: new Date(Date.now() - 3_600_000), end: new Date(Date.now() - 60_000) };
    await deliverRawOnceAccepted(
      h.lab,
      'reporter@sender.invalid',
      to,
      googleZipReport({
        to,
        domain,
        reportId: 'google-2',
        ...period,
        records: [{ sourceIp: '127.0.0.1', count: 4, dkim: 'pass', spf: 'pass' }],
      })
    );
    await deliverRawOnceAccepted(
      h.lab,
      'reporter@sender.invalid',
      to,
      tlsRptGzipReport({
        to,
        domain,
        reportId: 'tls-2',
        ...period,
        policies: [{ policyType: 'sts', policyDomain: domain, success: 5, failure: 0 }],
      })
    );
    await waitFor('chasquid to spool both reports', () => spooled().length === 2, { timeoutMs: 20_000, intervalMs: 200 });
    const result = JSON.parse((await cli('run-job', 'reports', '--json')).stdout) as JobJson;
    expect(result.stored).toEqual({ dmarc: 1, tlsrpt: 1 });
    expect(result.alerts.map((alert) => alert.kind)).toEqual(['recovery', 'recovery']);
    expect(result.alerts.map((alert) => alert.message).join('\n')).toMatch(/aligned for example\.test again[\s\S]*no failures/);
  });

  it('mailops reports sums up the period: pass rate, reporters, sources, TLS sessions', async () => {
    const run = await cli('reports', domain, '--json');
    const body = JSON.parse(run.stdout) as {
      domain: string;
      dmarc: {
        messages: number;
        passRate: number;
        reporters: Array<{ org: string }>;
        sources: Array<{ ip: string; ours: boolean; messages: number }>;
      };
      tlsrpt: { success: number; failure: number; failures: Array<{ type: string; count: number }> };
      delivery: { sent: number; failedTemporary: number; failedPermanent: number };
    };
    expect(body.domain).toBe(domain);
    expect(body.dmarc.messages).toBe(40);
    expect(body.dmarc.passRate).toBeCloseTo(39 / 40, 5);
    expect(body.dmarc.reporters.map((reporter) => reporter.org)).toHaveLength(3);
    expect(body.dmarc.sources).toContainEqual(expect.objectContaining({ ip: '127.0.0.1', ours: true, messages: 39 }));
    expect(body.dmarc.sources).toContainEqual(expect.objectContaining({ ip: '198.51.100.7', ours: false, messages: 1 }));
    expect(body.tlsrpt).toMatchObject({ success: 15, failure: 1, failures: [{ type: 'certificate-expired', count: 1 }] });
    expect(body.delivery).toEqual(expect.objectContaining({ failedPermanent: 0 }));
    const text = await cli('reports', domain);
    expect(text.stdout).toContain('pass rate 97.5%');
    expect((await cli('reports', domain, '--since', 'forever')).code).toBe(2);
  });

  it('/mail reports shows the same to a viewer, and the weekly digest goes to the health channel', async () => {
    const record = await h.finished(h.emulator.command(h.viewer, 'reports', { domain }));
    const embeds = JSON.stringify(record.original?.embeds ?? []);
    expect(embeds).toContain('97.5%');
    expect(embeds).toContain('127.0.0.1');
    const digest = await cli('run-job', 'digest', '--json');
    expect(JSON.parse(digest.stdout)).toMatchObject({ job: 'digest', ok: true, delivered: 1 });
    const posted = h.emulator.messagesIn(h.channels.health);
    expect(posted).toHaveLength(1);
    const shown = JSON.stringify(posted[0]);
    expect(shown).toContain('Weekly digest');
    expect(shown).toContain('97.5%');
    expect(shown).toContain('certificate-expired');
  });

  it('says that deliveries are not read when chasquid logs to syslog', async () => {
    const conf = path.join(h.lab.chasquidDir, 'chasquid.conf');
    const original = readFileSync(conf, 'utf8');
    writeFileSync(conf, original.replace(/^mail_log_path:.*$/m, ''));
    try {
      const run = await cli('run-job', 'reports', '--json');
      const result = JSON.parse(run.stdout) as JobJson & { summary: string; mailLog: { source: string } };
      expect(result.mailLog, run.stderr).toEqual({ source: 'syslog' });
      expect(result.summary).toContain('set mail_log_path in chasquid.conf to a file');
    } finally {
      writeFileSync(conf, original);
    }
  });
});
