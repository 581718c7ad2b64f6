// DKIM results in a terminal: dkim-rotate, dkim-show, dkim-retire.

import { dkimRecordName } from '../../chasquid/dkim-key.ts';
import type { DkimRetireCommandResult } from '../../ops/dkim-retire.ts';
import type { DkimRotateResult } from '../../ops/dkim-rotate.ts';
import type { DkimShowResult } from '../../ops/dkim-show.ts';
import { describeOrphan, type OrphanRecord } from '../../ops/orphan-records.ts';
import { rows } from '../format.ts';

export function renderRotation(result: DkimRotateResult): string {
  return rows([
    ['Domain', result.domain],
    ['New selector', `${result.selector} (${result.algorithm}), published and active`],
    ['Record', `${dkimRecordName(result.selector, result.domain)} TXT "${result.record}"`],
    ['Verified', result.verified ? `a freshly signed message: ${result.verification}` : `NO — ${result.verification}`],
    [
      'Retiring',
      result.retiring.length === 0
        ? 'nothing (there was no previous key)'
        : result.retiring.map((old) => `${old.selector} after ${old.after}`).join(', '),
    ],
    ...(result.recovered ?? []).map((sentence): [string, string] => ['First', sentence]),
  ]);
}

export function renderOrphans(orphans: readonly OrphanRecord[], domain: string): string {
  if (orphans.length === 0) return '';
  return `\n\nOrphan records mailops made that nothing uses any more:\n${orphans.map((orphan) => `  ${describeOrphan(orphan)}`).join('\n')}\nRemove them: mailops dkim-retire ${domain} --prune --yes`;
}

/** When an old key goes: it retires after its date while that is ahead; after it, the dkim-retire job's next run. */
function retirement(retireAfter: string, now: Date): string {
  return new Date(retireAfter) > now
    ? `retires after ${retireAfter}`
    : `due for retirement since ${retireAfter} (the dkim-retire job removes it within the hour)`;
}

export function renderSelectors(result: DkimShowResult, now = new Date()): string {
  const orphans = renderOrphans(result.orphans, result.domain);
  if (result.selectors.length === 0)
    return `${result.domain} has no DKIM key. Create one with: mailops dkim-rotate ${result.domain}${orphans}`;
  return (
    result.selectors
      .map((selector) =>
        rows([
          [
            'Selector',
            `${selector.selector}${selector.active ? ' (active)' : ''}${selector.retireAfter ? `, ${retirement(selector.retireAfter, now)}` : ''}`,
          ],
          ['Published', selector.published ? 'yes, at every authoritative server' : 'NO'],
          ['Record', `${dkimRecordName(selector.selector, result.domain)} TXT "${selector.record}"`],
        ])
      )
      .join('\n\n') + orphans
  );
}

export function renderRetire(result: DkimRetireCommandResult): string {
  const lines = [
    `Retired: ${result.retired.map((entry) => entry.selector).join(', ') || 'nothing due'}`,
    ...result.failed.map((entry) => `FAILED to retire ${entry.selector}: ${entry.error}`),
    ...(result.waiting.length > 0
      ? [`Waiting: ${result.waiting.map((entry) => `${entry.selector} after ${entry.after}`).join(', ')}`]
      : []),
  ];
  if (result.pruned) {
    lines.push(
      result.pruned.removed.length === 0 && result.pruned.failed.length === 0
        ? 'Pruned: no orphan records were found'
        : `Pruned: ${result.pruned.removed.map((orphan) => orphan.name).join(', ') || 'nothing'}`
    );
    for (const entry of result.pruned.failed) lines.push(`FAILED to remove ${entry.name}: ${entry.error}`);
  }
  return lines.join('\n');
}
