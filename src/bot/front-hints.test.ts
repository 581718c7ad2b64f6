import { beforeAll, describe, expect, it } from 'vitest';
import { loadCommands } from '../command/catalogue.ts';
import { embedInDiscordTerms, inDiscordTerms, learnCommands } from './front-hints.ts';

beforeAll(async () => {
  learnCommands(await loadCommands());
});

describe("hints in the reader's front", () => {
  it.each([
    ['Renew it now: mailops cert-renew', 'Renew it now: /mail cert-renew'],
    [
      'Install a valid certificate for mail.example.com: mailops cert-renew --force',
      'Install a valid certificate for mail.example.com: /mail cert-renew force:true',
    ],
    [
      'Use a 2048-bit key: mailops dkim-rotate example.com --algo rsa2048',
      'Use a 2048-bit key: /mail dkim-rotate domain:example.com algo:rsa2048',
    ],
    [
      'Make chasquid sign mail of example.com: mailops dkim-rotate example.com (see the dkim check)',
      'Make chasquid sign mail of example.com: /mail dkim-rotate domain:example.com (see the dkim check)',
    ],
    ['Run mailops check example.com.', 'Run /mail check domain:example.com.'],
    ['Accept it with mailops dns-diff example.com --accept, then', 'Accept it with /mail dns-diff domain:example.com accept:true, then'],
    ['Run `mailops alias-remove sales@example.com --yes` first', 'Run `/mail alias-remove address:sales@example.com` first'],
    ['Remove them: mailops dkim-retire example.com --prune --yes', 'Remove them: /mail dkim-retire domain:example.com prune:true'],
  ])('%s', (terminal, discord) => {
    expect(inDiscordTerms(terminal)).toBe(discord);
  });

  it('leaves words that are not /mail commands alone', () => {
    for (const text of [
      'example.com is not one of the domains mailops manages',
      'from mailops-probe@example.com',
      'mailops start runs the bot',
    ]) {
      expect(inDiscordTerms(text)).toBe(text);
    }
  });

  it('rewrites every text of an embed', () => {
    expect(
      embedInDiscordTerms({
        title: 'mailops status',
        description: 'Renew it now: mailops cert-renew',
        fields: [{ name: 'tls', value: 'mailops cert-renew --force' }],
        footer: { text: 'mailops check a.test' },
      })
    ).toEqual({
      title: '/mail status',
      description: 'Renew it now: /mail cert-renew',
      fields: [{ name: 'tls', value: '/mail cert-renew force:true' }],
      footer: { text: '/mail check domain:a.test' },
    });
  });
});
