// `npm run register`: the whole /mail tree, built from commands/, sent to the guild endpoint when DISCORD_GUILD_ID
// is set and to the global one otherwise; and what the script says when Discord or the configuration is wrong.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../src/bot/registration.ts';
import { loadCommands } from '../../src/command/catalogue.ts';
import { parseConfig } from '../../src/config.ts';
import { runCli, type CliRun } from '../cli.ts';
import { freePorts } from '../lab/lab.ts';
import { DiscordEmulator, type RegisteredCommand } from './emulator.ts';

const interfaceCommands = [
  'alias-remove',
  'alias-set',
  'aliases',
  'cert-renew',
  'cert-status',
  'check',
  'dkim-retire',
  'dkim-rotate',
  'dkim-show',
  'dns-diff',
  'passwd',
  'reports',
  'setup',
  'status',
  'user-add',
  'user-remove',
  'users',
];

let emulator: DiscordEmulator;

beforeAll(async () => {
  emulator = await new DiscordEmulator().start();
});

afterAll(async () => {
  await emulator?.stop();
});

/** `npm run register -- --env-file <file>`, with these variables in the file. */
function runRegister(env: Record<string, string>): Promise<CliRun> {
  const envFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'mailops-register-')), 'discord.env');
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n')
  );
  return runCli(['--env-file', envFile], { script: 'deploy/register-commands.ts' });
}

const subcommand = (mail: RegisteredCommand, name: string) => mail.options?.find((option) => option.name === name);
const optionsOf = (mail: RegisteredCommand, name: string) =>
  (subcommand(mail, name)?.options ?? []).map((option) => ({
    name: option.name,
    type: option.type,
    required: option.required ?? false,
    ...(option.autocomplete ? { autocomplete: true } : {}),
    ...(option.choices ? { choices: option.choices.map((choice) => choice.value) } : {}),
  }));

describe('registering /mail', () => {
  it('sends the full /mail tree to the guild endpoint when DISCORD_GUILD_ID is set', async () => {
    const result = await registerCommands(parseConfig(emulator.env), await loadCommands());
    expect(result).toEqual({ scope: 'guild', guildId: emulator.guildId, subcommands: interfaceCommands });

    const puts = emulator.requests.filter((request) => request.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({
      path: `/applications/${emulator.applicationId}/guilds/${emulator.guildId}/commands`,
      authorization: `Bot ${emulator.token}`,
      status: 200,
    });
    const body = puts[0]?.body as RegisteredCommand[];
    expect(body.map((command) => command.name)).toEqual(['mail']);
    const [mail] = emulator.commands.guild as [RegisteredCommand];
    expect(mail.contexts).toEqual([0]);
    expect((mail.options ?? []).map((option) => [option.type, option.name])).toEqual(interfaceCommands.map((name) => [1, name]));

    const address = { name: 'address', type: 3, required: true };
    const existing = { ...address, autocomplete: true };
    const domain = { name: 'domain', type: 3, required: true, autocomplete: true };
    expect(optionsOf(mail, 'user-add')).toEqual([address, { name: 'type-password', type: 5, required: false }]);
    expect(optionsOf(mail, 'passwd')).toEqual([existing, { name: 'type-password', type: 5, required: false }]);
    expect(optionsOf(mail, 'user-remove')).toEqual([existing]);
    expect(optionsOf(mail, 'users')).toEqual([{ ...domain, required: false }]);
    expect(optionsOf(mail, 'alias-set')).toEqual([existing, { name: 'targets', type: 3, required: true }]);
    expect(optionsOf(mail, 'alias-remove')).toEqual([existing]);
    expect(optionsOf(mail, 'aliases')).toEqual([{ ...domain, required: false }]);
    expect(optionsOf(mail, 'dkim-rotate')).toEqual([
      domain,
      { name: 'algo', type: 3, required: false, choices: ['rsa2048', 'rsa3072', 'ed25519'] },
    ]);
    expect(optionsOf(mail, 'dkim-show')).toEqual([domain]);
    expect(optionsOf(mail, 'dkim-retire')).toEqual([domain, { name: 'prune', type: 5, required: false }]);
    expect(optionsOf(mail, 'cert-renew')).toEqual([{ name: 'force', type: 5, required: false }]);
    expect(optionsOf(mail, 'cert-status')).toEqual([]);
    expect(optionsOf(mail, 'check')).toEqual([domain]);
    expect(optionsOf(mail, 'dns-diff')).toEqual([domain, { name: 'accept', type: 5, required: false }]);
    expect(optionsOf(mail, 'status')).toEqual([]);
    expect(optionsOf(mail, 'reports')).toEqual([
      { ...domain, required: false },
      { name: 'since', type: 3, required: false },
    ]);
    expect(optionsOf(mail, 'setup')).toEqual([
      domain,
      { name: 'forward-to', type: 3, required: false },
      { name: 'sender', type: 3, required: false },
    ]);
  });

  it('npm run register registers globally without DISCORD_GUILD_ID', async () => {
    const { DISCORD_GUILD_ID: _guild, ...env } = emulator.env;
    const run = await runRegister(env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `Registered /mail with 17 subcommands globally (Discord may take up to an hour to show them): ${interfaceCommands.join(', ')}\n`
    );
    expect(emulator.requests.at(-1)).toMatchObject({
      method: 'PUT',
      path: `/applications/${emulator.applicationId}/commands`,
      status: 200,
    });
    expect(emulator.commands.global.map((command) => command.name)).toEqual(['mail']);
  });

  it('says what to check when Discord refuses the token, and exits 1', async () => {
    const run = await runRegister({ ...emulator.env, DISCORD_TOKEN: 'not.the.right.token.at.all.really' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Discord did not accept the /mail command: 401: Unauthorized (HTTP 401, code 0).');
    expect(run.stderr).toContain('Check DISCORD_TOKEN');
    expect(run.stderr).not.toContain('not.the.right.token');
  });

  it('without a way to Discord, says Discord could not be reached and does not blame the ids', async () => {
    const [closed] = await freePorts(1);
    const run = await runRegister({ ...emulator.env, DISCORD_API_URL: `http://127.0.0.1:${closed}/api` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`Could not reach Discord at http://127\\.0\\.0\\.1:${closed}/api \\(.*ECONNREFUSED.*\\)\\. Nothing was registered\\.`)
    );
    expect(run.stderr).toContain('Check that this machine can reach the internet');
    expect(run.stderr).not.toContain('DISCORD_APPLICATION_ID');
    expect(run.stderr).not.toContain('DISCORD_GUILD_ID');
  });

  it('names the missing settings and exits 2', async () => {
    const run = await runRegister({ DISCORD_API_URL: emulator.apiUrl });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DISCORD_TOKEN');
    expect(run.stderr).toContain('DISCORD_APPLICATION_ID');
  });
});
