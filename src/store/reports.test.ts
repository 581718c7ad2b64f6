import { describe, expect, it } from 'vitest';
import type { DmarcAggregateReport, TlsReport } from '../reports/types.ts';
import { openDatabase } from './database.ts';
import {
  deliveryCounts,
  dmarcRows,
  mailLogPosition,
  recordDelivery,
  recordQueueDone,
  recordQueued,
  reportTotals,
  saveMailLogPosition,
  setReportAside,
  storeReport,
  stuckQueueItems,
  tlsPolicies,
} from './reports.ts';

const at = new Date('2026-11-30T00:00:00Z');

const dmarc = (reportId: string, org = 'google.com'): DmarcAggregateReport => ({
  kind: 'dmarc',
  orgName: org,
  reportId,
  begin: new Date('2026-11-29T00:00:00Z'),
  end: new Date('2026-11-29T23:59:59Z'),
  domain: 'example.test',
  policy: { p: 'quarantine' },
  records: [
    {
      sourceIp: '192.0.2.1',
      count: 3,
      headerFrom: 'example.test',
      dkim: 'pass',
      spf: 'pass',
      disposition: 'none',
      dkimAuth: [],
      spfAuth: [],
    },
    {
      sourceIp: '198.51.100.7',
      count: 2,
      headerFrom: 'example.test',
      dkim: 'fail',
      spf: 'fail',
      disposition: 'quarantine',
      dkimAuth: [],
      spfAuth: [],
    },
  ],
});

const tls: TlsReport = {
  kind: 'tlsrpt',
  orgName: 'Google Inc.',
  reportId: '2026-11-29T00:00:00Z_example.test',
  begin: new Date('2026-11-29T00:00:00Z'),
  end: new Date('2026-11-29T23:59:59Z'),
  policies: [
    {
      policyType: 'sts',
      policyDomain: 'example.test',
      success: 10,
      failure: 2,
      failures: [{ resultType: 'certificate-expired', count: 2 }],
    },
  ],
};

describe('stored reports', () => {
  it('stores a report once per reporter and report id', () => {
    const database = openDatabase(':memory:');
    expect(storeReport(database, dmarc('r1'), at)).toBe(true);
    expect(storeReport(database, dmarc('r1'), at)).toBe(false);
    // The same id from another reporter is another report.
    expect(storeReport(database, dmarc('r1', 'Yahoo'), at)).toBe(true);
    expect(dmarcRows(database, 'example.test', new Date('2026-11-01T00:00:00Z'))).toHaveLength(4);
    expect(dmarcRows(database, 'example.test', new Date('2026-11-30T00:00:00Z'))).toHaveLength(0);
    expect(storeReport(database, tls, at)).toBe(true);
    expect(storeReport(database, tls, at)).toBe(false);
    expect(tlsPolicies(database, 'example.test', new Date('2026-11-01T00:00:00Z'))).toEqual([
      { org: 'Google Inc.', success: 10, failure: 2, failures: [{ resultType: 'certificate-expired', count: 2 }] },
    ]);
    const totals = reportTotals(database);
    expect(totals.dmarc).toEqual(
      expect.arrayContaining([
        { domain: 'example.test', result: 'pass', messages: 6 },
        { domain: 'example.test', result: 'fail', messages: 4 },
      ])
    );
    expect(totals.tls).toEqual([
      { domain: 'example.test', result: 'success', sessions: 10 },
      { domain: 'example.test', result: 'failure', sessions: 2 },
    ]);
  });

  it('sets a message aside once per content', () => {
    const database = openDatabase(':memory:');
    const aside = { sha256: 'a'.repeat(64), reason: 'no DMARC or TLS report attached', size: 5, head: Buffer.from('hello') };
    expect(setReportAside(database, aside, at)).toBe(true);
    expect(setReportAside(database, aside, at)).toBe(false);
    expect(reportTotals(database).setAside).toBe(1);
  });

  it('keeps the mail log position, deliveries by the sender domain, and the queue items not done', () => {
    const database = openDatabase(':memory:');
    expect(mailLogPosition(database)).toEqual({ inode: '0', offset: 0, partial: '' });
    saveMailLogPosition(database, { inode: '42', offset: 1234, partial: 'half a li' }, at);
    expect(mailLogPosition(database)).toEqual({ inode: '42', offset: 1234, partial: 'half a li' });
    recordQueued(database, { queueId: 'q1', sender: 'a@example.test', recipients: ['x@gmail.com'], at: new Date('2026-11-29T20:00:00Z') });
    recordQueued(database, { queueId: 'q2', sender: 'a@example.test', recipients: ['y@gmail.com'], at: new Date('2026-11-29T23:00:00Z') });
    recordQueueDone(database, 'q2', at);
    expect(stuckQueueItems(database, new Date('2026-11-29T22:00:00Z')).map((item) => item.queueId)).toEqual(['q1']);
    recordDelivery(database, {
      queueId: 'q1',
      at,
      sender: 'a@Example.test',
      recipient: 'x@gmail.com',
      result: 'permanent',
      reply: '550 5.7.26',
    });
    recordDelivery(database, { queueId: 'q2', at, sender: 'a@other.test', recipient: 'y@gmail.com', result: 'sent' });
    const since = new Date('2026-11-01T00:00:00Z');
    expect(deliveryCounts(database, 'example.test', since)).toEqual({ sent: 0, temporary: 0, permanent: 1 });
    expect(deliveryCounts(database, undefined, since)).toEqual({ sent: 1, temporary: 0, permanent: 1 });
  });
});
