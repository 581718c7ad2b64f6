// Orphan records (ops/orphan-records.ts) against the lab's Knot: DKIM keys of selectors mailops made for a domain that
// no longer sign and are not waiting for retirement, and leftover ACME challenges, are listed by dkim-show and
// dns-diff and removed by `dkim-retire <domain> --prune --yes`; records mailops did not make, keys that sign and keys
// waiting for retirement are never listed or touched.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDkimKey } from '../../src/chasquid/dkim-key.ts';
import { auditEntries, recordAudit } from '../../src/store/audit.ts';
import { openDatabase } from '../../src/store/database.ts';
import { scheduleRetirement } from '../../src/store/dkim-retirements.ts';
import { runCli } from '../cli.ts';
import { startLab, type Lab } from './lab.ts';

const day = '20260315';
const key = () => generateDkimKey('ed25519', 'builtin');

describe('orphan DKIM and ACME challenge records', () => {
  let lab: Lab;
  const signing = key();
  const orphan = key();
  const orphanB = key();
  const retiring = key();
  const byHand = key();

  const zone = () => lab.knotc('zone-read', 'example.test');
  async function publish(name: string, value: string): Promise<void> {
    await lab.knotc('zone-begin', 'example.test');
    await lab.knotc('zone-set', 'example.test', `${name}.`, '300', 'TXT', `"${value}"`);
    await lab.knotc('zone-commit', 'example.test');
  }

  beforeAll(async () => {
    lab = await startLab({
      chasquid: '1.15',
      domains: ['example.test'],
      dkimKeys: [{ domain: 'example.test', selector: `${day}c`, privateKeyPem: signing.privatePem }],
    });
    await publish(`${day}c._domainkey.example.test`, signing.record);
    await publish(`${day}._domainkey.example.test`, orphan.record);
    await publish(`${day}b._domainkey.example.test`, orphanB.record);
    await publish(`${day}d._domainkey.example.test`, retiring.record);
    // Made by hand (not mailops's pattern), and a date-pattern selector on a day mailops never rotated the domain.
    await publish('mykey._domainkey.example.test', byHand.record);
    await publish('20250101._domainkey.example.test', byHand.record);
    await publish(`_acme-challenge.${lab.hostname}`, 'left-over-token');
    const database = openDatabase(lab.env.STATE_DB ?? '');
    recordAudit(database, {
      at: '2026-03-15T10:00:00.000Z',
      actor: 'cli:alice',
      operation: 'dkim-rotate',
      target: 'example.test',
      outcome: 'failed',
      detail: 'dns-update-unverified',
    });
    scheduleRetirement(database, {
      domain: 'example.test',
      selector: `${day}d`,
      record: retiring.record,
      layout: 'builtin',
      scheduledAt: '2026-03-15T10:00:00.000Z',
      dueAt: '2999-01-01T00:00:00.000Z',
    });
    database.close();
  });

  afterAll(async () => {
    await lab?.stop();
  });

  const expected = () => [
    { kind: 'dkim', name: `${day}._domainkey.example.test`, selector: day, values: [orphan.record] },
    { kind: 'dkim', name: `${day}b._domainkey.example.test`, selector: `${day}b`, values: [orphanB.record] },
    { kind: 'acme-challenge', name: `_acme-challenge.${lab.hostname}`, values: ['left-over-token'] },
  ];

  it('dkim-show and dns-diff list exactly the records mailops made and lost track of', async () => {
    const show = await runCli(['dkim-show', 'example.test', '--json', '--env-file', lab.envFile]);
    expect(show.code).toBe(0);
    const body = JSON.parse(show.stdout);
    expect(body.selectors.map((selector: { selector: string }) => selector.selector)).toEqual([`${day}c`, `${day}d`]);
    expect(body.orphans).toEqual(expected());
    const text = await runCli(['dkim-show', 'example.test', '--env-file', lab.envFile]);
    expect(text.stdout).toContain(
      `${day}._domainkey.example.test TXT (DKIM key of selector ${day}, which no longer signs and is not scheduled for retirement)`
    );
    expect(text.stdout).toContain('Remove them: mailops dkim-retire example.test --prune --yes');

    const diff = await runCli(['dns-diff', 'example.test', '--json', '--env-file', lab.envFile]);
    expect(JSON.parse(diff.stdout).orphans).toEqual(expected());
    // Orphans are not drift: they do not appear among the drifted records.
    expect(JSON.parse(diff.stdout).drift.map((entry: { name: string }) => entry.name)).not.toContain(`${day}._domainkey.example.test`);
    expect((await runCli(['dns-diff', 'example.test', '--env-file', lab.envFile])).stdout).toContain(
      `ORPHAN  _acme-challenge.${lab.hostname} TXT (1 leftover ACME challenge value)`
    );
  });

  it('dkim-retire --prune needs --yes: without it, exit 3, nothing removed, the refusal audited', async () => {
    const before = await zone();
    const run = await runCli(['dkim-retire', 'example.test', '--prune', '--json', '--env-file', lab.envFile]);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout).error.code).toBe('confirmation-required');
    expect(await zone()).toBe(before);
    const database = openDatabase(lab.env.STATE_DB ?? '');
    expect(auditEntries(database)[0]).toMatchObject({ operation: 'dkim-retire', target: 'example.test', outcome: 'refused' });
    database.close();
  });

  it('dkim-retire --prune --yes removes them from DNS and audits what it removed; everything else stays', async () => {
    const run = await runCli(['dkim-retire', 'example.test', '--prune', '--yes', '--json', '--env-file', lab.envFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ domain: 'example.test', retired: [], pruned: { removed: expected(), failed: [] } });
    const records = await zone();
    expect(records).not.toContain(`${day}._domainkey`);
    expect(records).not.toContain(`${day}b._domainkey`);
    expect(records).not.toContain('_acme-challenge');
    for (const kept of [`${day}c._domainkey`, `${day}d._domainkey`, 'mykey._domainkey', '20250101._domainkey'])
      expect(records).toContain(kept);
    const database = openDatabase(lab.env.STATE_DB ?? '');
    expect(auditEntries(database)[0]).toMatchObject({
      actor: expect.stringMatching(/^cli:/),
      operation: 'dkim-retire',
      target: 'example.test',
      outcome: 'ok',
      detail: `pruned ${day}._domainkey.example.test, ${day}b._domainkey.example.test, _acme-challenge.${lab.hostname}`,
    });
    database.close();
    expect(JSON.parse((await runCli(['dkim-show', 'example.test', '--json', '--env-file', lab.envFile])).stdout).orphans).toEqual([]);
  });
});
