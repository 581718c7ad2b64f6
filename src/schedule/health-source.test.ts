import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { BotMetrics } from '../health/metrics.ts';
import { createRuntime } from '../runtime.ts';
import { finishJobRun, startJobRun } from '../store/job-runs.ts';
import { saveCertificateExpiries, saveCheckResults } from '../store/latest-results.ts';
import { enqueueMessage } from '../store/outbox.ts';
import { recordDelivery, setReportAside, storeReport } from '../store/reports.ts';
import { registerSchedulerMetrics, schedulerHealthSource } from './health-source.ts';

describe('the scheduler in the health endpoint', () => {
  it('shows the last job runs, the outbox, check results and certificate days left from the state database', async () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const runtime = createRuntime({ config: parseConfig({ STATE_DB: ':memory:' }), secrets: [], logLevel: 'silent', now: () => now });
    const database = runtime.database();
    const id = startJobRun(database, { job: 'dns-drift', trigger: 'schedule', startedAt: new Date('2026-03-01T11:45:00Z') });
    finishJobRun(database, id, {
      finishedAt: new Date('2026-03-01T11:45:02Z'),
      outcome: 'failed',
      summary: '1 domain, 1 drifting record in example.com',
      alerts: 1,
    });
    enqueueMessage(database, { channelId: '1', kind: 'drift', body: { content: 'x' }, createdAt: now });
    saveCheckResults(database, {
      domain: 'example.com',
      checkedAt: now.toISOString(),
      worst: 'fail',
      checks: [
        { id: 'spf', status: 'pass' },
        { id: 'tls', status: 'fail', port: 25 },
      ],
    });
    saveCertificateExpiries(
      database,
      [
        {
          name: 'mail.example.com',
          notAfter: '2026-03-11T12:00:00.000Z',
          renewalWindow: { start: '2026-03-05T00:00:00.000Z', end: '2026-03-06T00:00:00.000Z' },
        },
        { name: 'other.example.com', notAfter: '2026-03-21T12:00:00.000Z' },
      ],
      now
    );

    expect(schedulerHealthSource.details?.(database)).toEqual({
      jobs: {
        'dns-drift': {
          trigger: 'schedule',
          startedAt: '2026-03-01T11:45:00.000Z',
          finishedAt: '2026-03-01T11:45:02.000Z',
          outcome: 'failed',
          summary: '1 domain, 1 drifting record in example.com',
          alerts: 1,
        },
      },
      outbox: { waiting: 1 },
    });
    const metrics = new BotMetrics();
    registerSchedulerMetrics(metrics, runtime);
    const text = await metrics.text();
    expect(text).toMatch(/^mailops_job_last_run_ok\{job="dns-drift"\} 0$/m);
    expect(text).toMatch(/^mailops_alert_outbox_messages 1$/m);
    expect(text).toMatch(/^mailops_check_ok\{domain="example.com",check="spf"\} 1$/m);
    expect(text).toMatch(/^mailops_check_ok\{domain="example.com",check="tls 25"\} 0$/m);
    expect(text).toMatch(/^mailops_certificate_days_left\{name="mail.example.com"\} 10$/m);
    // The ARI window's start, only for a certificate whose CA offers one.
    expect(text).toMatch(/^mailops_certificate_renewal_window_start_timestamp_seconds\{name="mail.example.com"\} 1772668800$/m);
    expect(text).not.toMatch(/^mailops_certificate_renewal_window_start_timestamp_seconds\{name="other.example.com"\}/m);
    await runtime.close();
  });

  it('counts reported DMARC messages, TLS sessions, deliveries and set-aside reports', async () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const runtime = createRuntime({ config: parseConfig({ STATE_DB: ':memory:' }), secrets: [], logLevel: 'silent', now: () => now });
    const database = runtime.database();
    storeReport(
      database,
      {
        kind: 'dmarc',
        orgName: 'google.com',
        reportId: '1',
        begin: now,
        end: now,
        domain: 'example.com',
        policy: { p: 'reject' },
        records: [
          {
            sourceIp: '192.0.2.1',
            count: 7,
            headerFrom: 'example.com',
            dkim: 'pass',
            spf: 'fail',
            disposition: 'none',
            dkimAuth: [],
            spfAuth: [],
          },
          {
            sourceIp: '192.0.2.9',
            count: 2,
            headerFrom: 'example.com',
            dkim: 'fail',
            spf: 'fail',
            disposition: 'reject',
            dkimAuth: [],
            spfAuth: [],
          },
        ],
      },
      now
    );
    storeReport(
      database,
      {
        kind: 'tlsrpt',
        orgName: 'Google Inc.',
        reportId: 't',
        begin: now,
        end: now,
        policies: [{ policyType: 'sts', policyDomain: 'example.com', success: 30, failure: 3, failures: [] }],
      },
      now
    );
    recordDelivery(database, {
      queueId: 'q',
      at: now,
      sender: 'a@example.com',
      recipient: 'b@gmail.com',
      result: 'permanent',
      reply: '550',
    });
    setReportAside(database, { sha256: 'f'.repeat(64), reason: 'broken', size: 1, head: Buffer.from('x') }, now);
    const metrics = new BotMetrics();
    registerSchedulerMetrics(metrics, runtime);
    const text = await metrics.text();
    expect(text).toMatch(/^mailops_dmarc_reported_messages\{domain="example.com",result="pass"\} 7$/m);
    expect(text).toMatch(/^mailops_dmarc_reported_messages\{domain="example.com",result="fail"\} 2$/m);
    expect(text).toMatch(/^mailops_tlsrpt_sessions\{domain="example.com",result="failure"\} 3$/m);
    expect(text).toMatch(/^mailops_deliveries\{result="permanent"\} 1$/m);
    expect(text).toMatch(/^mailops_reports_set_aside 1$/m);
    await runtime.close();
  });
});
