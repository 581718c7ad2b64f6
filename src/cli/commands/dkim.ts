// dkim-rotate, dkim-show.

import { dkimAlgorithms, dkimRecordName } from '../../chasquid/dkim-key.ts';
import { operationContext } from '../../ops/context.ts';
import type { DkimRotateResult } from '../../ops/dkim-rotate.ts';
import type { DkimShowResult } from '../../ops/dkim-show.ts';
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
  ]);
}

function renderSelectors(result: DkimShowResult): string {
  if (result.selectors.length === 0) return `${result.domain} has no DKIM key. Create one with: mailops dkim-rotate ${result.domain}`;
  return result.selectors.map((selector) => rows([
    ['Selector', `${selector.selector}${selector.active ? ' (active)' : ''}${selector.retireAfter ? `, retired after ${selector.retireAfter}` : ''}`],
    ['Published', selector.published ? 'yes, at every authoritative server' : 'NO'],
    ['Record', `${dkimRecordName(selector.selector, result.domain)} TXT "${selector.record}"`],
  ])).join('\n\n');
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
