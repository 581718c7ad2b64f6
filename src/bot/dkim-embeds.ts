// DKIM results as Discord embeds: a rotation (/mail dkim-rotate) and a domain's selectors (/mail dkim-show). Records
// are shown as zone-file lines in code blocks, split into 255-byte strings, ready to paste into a DNS panel.

import type { APIEmbed, APIEmbedField } from 'discord.js';
import { dkimRecordName } from '../chasquid/dkim-key.ts';
import { describeDkimLayout } from '../chasquid/version.ts';
import { presentTxtRecord } from '../dns/txt.ts';
import { dkimRecordTtl, type DkimRotateResult } from '../ops/dkim-rotate.ts';
import type { DkimSelectorStatus, DkimShowResult } from '../ops/dkim-show.ts';
import { describeOrphan } from '../ops/orphan-records.ts';
import { codeBlock, colours, discordTime } from './render.ts';

function recordBlock(selector: string, domain: string, record: string): string {
  return codeBlock(presentTxtRecord({ name: dkimRecordName(selector, domain), value: record, ttl: dkimRecordTtl }));
}

export function rotationEmbed(result: DkimRotateResult): APIEmbed {
  const retiring =
    result.retiring.length === 0
      ? 'nothing (there was no previous key)'
      : result.retiring
          .map((old) => `${old.selector}: stays published and signing until ${discordTime(old.after)}, then \`dkim-retire\` removes it`)
          .join('\n');
  return {
    title: `New DKIM key for ${result.domain}: ${result.selector}`,
    color: result.published && result.active && result.verified ? colours.ok : colours.warn,
    fields: [
      { name: 'Selector', value: `${result.selector} (${result.algorithm})`, inline: true },
      { name: 'Published', value: result.published ? 'yes, at every authoritative name server' : '**no**', inline: true },
      { name: 'Active', value: result.active ? 'yes, chasquid signs with it' : '**no**', inline: true },
      { name: 'Verified', value: result.verified ? `a freshly signed message: ${result.verification}` : `**no**: ${result.verification}` },
      { name: 'Old keys', value: retiring },
      { name: 'Record', value: recordBlock(result.selector, result.domain, result.record) },
      ...(result.recovered === undefined ? [] : [{ name: 'Interrupted rotation', value: result.recovered.join('\n') }]),
    ],
    footer: { text: describeDkimLayout(result.layout) },
  };
}

/** When an old key goes: "Retires after …" while that is ahead; once it has passed, the dkim-retire job's next run. */
function retirementLine(retireAfter: string, now: Date): string {
  return new Date(retireAfter) > now
    ? `Retires after ${discordTime(retireAfter)}`
    : `Due for retirement since ${discordTime(retireAfter)}: the dkim-retire job removes it within the hour`;
}

function selectorField(domain: string, selector: DkimSelectorStatus, now: Date): APIEmbedField {
  const state = [selector.active ? 'active' : 'not signing', selector.retireAfter === undefined ? '' : 'retiring']
    .filter((part) => part !== '')
    .join(', ');
  const lines = [
    `Published: ${selector.published ? 'yes, at every authoritative name server' : '**no**'}`,
    ...(selector.retireAfter === undefined ? [] : [retirementLine(selector.retireAfter, now)]),
    recordBlock(selector.selector, domain, selector.record),
  ];
  return { name: `${selector.published ? '✅' : selector.active ? '❌' : '⚠️'} ${selector.selector} (${state})`, value: lines.join('\n') };
}

export function selectorsEmbed(result: DkimShowResult, now = new Date()): APIEmbed {
  const title = `DKIM keys of ${result.domain}`;
  if (result.selectors.length === 0) {
    return {
      title,
      color: colours.warn,
      description: `${result.domain} has no DKIM key. Create one with \`/mail dkim-rotate domain:${result.domain}\`.`,
    };
  }
  // An active key that DNS does not publish breaks signing; an old one still in use by messages in transit hurts less.
  const colour = result.selectors.some((selector) => selector.active && !selector.published)
    ? colours.fail
    : result.selectors.some((selector) => !selector.published)
      ? colours.warn
      : colours.ok;
  const orphans =
    result.orphans.length === 0
      ? []
      : [
          {
            name: `Orphan records (${result.orphans.length})`,
            value:
              `${result.orphans.map((orphan) => `• ${describeOrphan(orphan)}`).join('\n')}\nRemove them: \`/mail dkim-retire domain:${result.domain} prune:true\``.slice(
                0,
                1024
              ),
          },
        ];
  return {
    title,
    color: colour === colours.ok && orphans.length > 0 ? colours.warn : colour,
    fields: [...result.selectors.map((selector) => selectorField(result.domain, selector, now)), ...orphans],
    footer: { text: describeDkimLayout(result.layout) },
  };
}
