import { describe, expect, it } from 'vitest';
import { commands as cliCommands } from '../cli/registry.ts';
import { embedInDiscordTerms, inDiscordTerms, positionalArguments } from './front-hints.ts';
import { loadCommands } from './loader.ts';

describe('hints in the reader\'s front', () => {
  it.each([
    ['Renew it now: mailops cert-renew', 'Renew it now: /mail cert-renew'],
    ['Install a valid certificate for mail.example.com: mailops cert-renew --force', 'Install a valid certificate for mail.example.com: /mail cert-renew force:true'],
    ['Use a 2048-bit key: mailops dkim-rotate example.com --algo rsa2048', 'Use a 2048-bit key: /mail dkim-rotate domain:example.com algo:rsa2048'],
    ['Make chasquid sign mail of example.com: mailops dkim-rotate example.com (see the dkim check)', 'Make chasquid sign mail of example.com: /mail dkim-rotate domain:example.com (see the dkim check)'],
    ['Run mailops check example.com.', 'Run /mail check domain:example.com.'],
    ['Accept it with mailops dns-diff example.com --accept, then', 'Accept it with /mail dns-diff domain:example.com accept:true, then'],
    ['Run `mailops alias-remove sales@example.com --yes` first', 'Run `/mail alias-remove address:sales@example.com` first'],
    ['Remove them: mailops dkim-retire example.com --prune --yes', 'Remove them: /mail dkim-retire domain:example.com prune:true'],
  ])('%s', (terminal, discord) => {
    expect(inDiscordTerms(terminal)).toBe(discord);
  });

  it('leaves words that are not /mail commands alone', () => {
    for (const text of ['example.com is not one of the domains mailops manages', 'from mailops-probe@example.com', 'mailops start runs the bot']) {
      expect(inDiscordTerms(text)).toBe(text);
    }
  });

  it('rewrites every text of an embed', () => {
    expect(embedInDiscordTerms({ title: 'mailops status', description: 'Renew it now: mailops cert-renew', fields: [{ name: 'tls', value: 'mailops cert-renew --force' }], footer: { text: 'mailops check a.test' } }))
      .toEqual({ title: '/mail status', description: 'Renew it now: /mail cert-renew', fields: [{ name: 'tls', value: '/mail cert-renew force:true' }], footer: { text: '/mail check domain:a.test' } });
  });

  it('knows the positional arguments of every /mail subcommand, in the CLI\'s order and under the Discord options\' names', async () => {
    const discord = await loadCommands();
    expect(Object.keys(positionalArguments).sort()).toEqual(discord.filter((command) => command.execute !== undefined).map((command) => command.name).sort());
    for (const command of discord) {
      const cli = cliCommands.find((candidate) => candidate.name === command.name)!;
      const names = cli.arguments.map((argument) => argument.replace(/[<>[\]]/g, ''));
      expect(positionalArguments[command.name]).toEqual(names);
      for (const name of names) expect(Object.keys(command.options)).toContain(name);
    }
  });
});
