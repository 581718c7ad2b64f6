// dkim-rotate, dkim-show, dkim-retire.

import { dkimAlgorithms, dkimRecordName } from '../../chasquid/dkim-key.ts';
import { operationContext } from '../../ops/context.ts';
import type { DkimRotateResult } from '../../ops/dkim-rotate.ts';
import type { DkimShowResult } from '../../ops/dkim-show.ts';
import type { DkimRetireCommandResult } from '../../ops/dkim-retire.ts';
import { describeOrphan, type OrphanRecord } from '../../ops/orphan-records.ts';
import type { CliCommand } from '../command.ts';
import { requireYes, yesOption } from '../confirm.ts';
import { publishingFor } from '../dns-publishing.ts';
import { rows } from '../format.ts';

const waitOption = { flags: '--wait', description: 'with DNS_PROVIDER=manual: do not wait for Enter; poll DNS until the record appears' };

function renderRotation(result: DkimRotateResult): string {
  return rows([
    ['Domain', result.domain],
    ['New selector', `${result.selector} (${result.algorithm}), published and active`],
    ['Record', `${dkimRecordName(result.selector, result.domain)} TXT "${result.record}"`],
    ['Verified', result.verified ? `a freshly signed message: ${result.verification}` : `NO — ${result.verification}`],
    ['Retiring', result.retiring.length === 0 ? 'nothing (there was no previous key)' : result.retiring.map((old) => `${old.selector} after ${old.after}`).join(', ')],
    ...(result.recovered ?? []).map((sentence): [string, string] => ['First', sentence]),
  ]);
}

export function renderOrphans(orphans: readonly OrphanRecord[], domain: string): string {
  if (orphans.length === 0) return '';
  return `\n\nOrphan records mailops made that nothing uses any more:\n${orphans.map((orphan) => `  ${describeOrphan(orphan)}`).join('\n')}\nRemove them: mailops dkim-retire ${domain} --prune --yes`;
}

/** When an old key goes: it retires after its date while that is ahead; after it, the dkim-retire job's next run. */
function retirement(retireAfter: string, now: Date): string {
  return new Date(retireAfter) > now ? `retires after ${retireAfter}` : `due for retirement since ${retireAfter} (the dkim-retire job removes it within the hour)`;
}

export function renderSelectors(result: DkimShowResult, now = new Date()): string {
  const orphans = renderOrphans(result.orphans, result.domain);
  if (result.selectors.length === 0) return `${result.domain} has no DKIM key. Create one with: mailops dkim-rotate ${result.domain}${orphans}`;
  return result.selectors.map((selector) => rows([
    ['Selector', `${selector.selector}${selector.active ? ' (active)' : ''}${selector.retireAfter ? `, ${retirement(selector.retireAfter, now)}` : ''}`],
    ['Published', selector.published ? 'yes, at every authoritative server' : 'NO'],
    ['Record', `${dkimRecordName(selector.selector, result.domain)} TXT "${selector.record}"`],
  ])).join('\n\n') + orphans;
}

export const dkimRotateCommand: CliCommand = {
  name: 'dkim-rotate',
  summary: 'new DKIM key and selector, published in DNS, activated once visible; the old key is retired later',
  arguments: ['<domain>'],
  options: [
    { flags: '--algo <algorithm>', description: `${dkimAlgorithms.join(', ')} (default rsa2048)` },
    waitOption,
    { ...yesOption, description: 'confirm the rotation' },
  ],
  async run(context, [domain = ''], options) {
    await requireYes(context, { operation: 'dkim-rotate', domain, ...(typeof options.algo === 'string' ? { algorithm: options.algo } : {}) }, options.yes);
    // Loaded when used: mailauth and the probe would slow every other command's start.
    const { dkimRotate } = await import('../../ops/dkim-rotate.ts');
    const result = await dkimRotate(operationContext(context.runtime, context.actor), {
      domain,
      ...(typeof options.algo === 'string' ? { algorithm: options.algo } : {}),
      publishing: () => publishingFor(context, { wait: options.wait === true }),
    });
    return { json: result, text: renderRotation(result) };
  },
};

export const dkimShowCommand: CliCommand = {
  name: 'dkim-show',
  summary: 'DKIM selectors, their DNS records, and whether each is published and active',
  arguments: ['<domain>'],
  options: [],
  async run(context, [domain = '']) {
    const { dkimShow } = await import('../../ops/dkim-show.ts');
    const result = await dkimShow(operationContext(context.runtime, context.actor), { domain });
    return { json: result, text: renderSelectors(result) };
  },
};

function renderRetire(result: DkimRetireCommandResult): string {
  const lines = [
    `Retired: ${result.retired.map((entry) => entry.selector).join(', ') || 'nothing due'}`,
    ...result.failed.map((entry) => `FAILED to retire ${entry.selector}: ${entry.error}`),
    ...(result.waiting.length > 0 ? [`Waiting: ${result.waiting.map((entry) => `${entry.selector} after ${entry.after}`).join(', ')}`] : []),
  ];
  if (result.pruned) {
    lines.push(result.pruned.removed.length === 0 && result.pruned.failed.length === 0 ? 'Pruned: no orphan records were found'
      : `Pruned: ${result.pruned.removed.map((orphan) => orphan.name).join(', ') || 'nothing'}`);
    for (const entry of result.pruned.failed) lines.push(`FAILED to remove ${entry.name}: ${entry.error}`);
  }
  return lines.join('\n');
}

export const dkimRetireCommand: CliCommand = {
  name: 'dkim-retire',
  summary: 'retire the domain\'s old DKIM keys whose grace period is over; --prune also removes orphan DKIM and ACME challenge records',
  arguments: ['<domain>'],
  options: [
    { flags: '--prune', description: 'also remove the orphan records dkim-show and dns-diff list (needs --yes)' },
    { flags: '--yes', description: 'confirm --prune' },
    waitOption,
  ],
  async run(context, [domain = ''], options) {
    const { dkimRetireDomain } = await import('../../ops/dkim-retire.ts');
    const result = await dkimRetireDomain(operationContext(context.runtime, context.actor), {
      domain, prune: options.prune === true, confirmed: options.yes === true,
      publishing: () => publishingFor(context, { wait: options.wait === true }),
    });
    const failed = result.failed.length > 0 || (result.pruned?.failed.length ?? 0) > 0;
    return { json: result, text: renderRetire(result), exitCode: failed ? 1 : 0 };
  },
};
