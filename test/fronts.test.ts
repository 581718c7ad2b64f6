// One command, one definition: every command of the commands folder appears in `mailops --help`, in
// `mailops <name> --help` and in the Discord tree that `npm run register` sends, with the same options — and so does
// a command that exists nowhere but in one new definition.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ApplicationCommandOptionType, type APIApplicationCommandSubcommandOption } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { buildMailCommand } from '../src/bot/tree.ts';
import { main } from '../src/cli/main.ts';
import { loadCommands } from '../src/command/catalogue.ts';
import { defineCommand, inFront, type CommandDefinition } from '../src/command/definition.ts';
import { option, positionalNames } from '../src/command/options.ts';
import { confirmableOperations } from '../src/ops/confirmation.ts';

async function cli(
  argv: string[],
  commands?: readonly CommandDefinition[],
  env: NodeJS.ProcessEnv = {}
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough(), env, cwd: os.tmpdir() }, commands);
  return { code, stdout: out, stderr: err };
}

function subcommand(commands: readonly CommandDefinition[], name: string): APIApplicationCommandSubcommandOption | undefined {
  return buildMailCommand(commands).options?.find((entry) => entry.name === name) as APIApplicationCommandSubcommandOption | undefined;
}

/** What the two fronts must show of a definition: every option under its name, as an argument or a --flag. */
async function expectBothFronts(command: CommandDefinition, all: readonly CommandDefinition[]): Promise<void> {
  const list = await cli(['--help'], all);
  expect(list.stdout).toMatch(
    new RegExp(`^  ${command.name}\\b.*${command.description.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm')
  );
  const help = (await cli([command.name, '--help'], all)).stdout;
  const usage = help.split('\n')[0] ?? '';
  for (const name of positionalNames(command.options)) {
    expect(usage).toContain(command.options[name]!.required ? `<${name}>` : `[${name}]`);
  }
  for (const [name, spec] of Object.entries(command.options)) {
    if (spec.cli === 'option') expect(help).toMatch(new RegExp(`--${name}\\b`));
  }
  expect(help.includes('--yes')).toBe(command.confirm !== undefined);
  expect(help.includes('--password-stdin')).toBe(command.secret !== undefined);
  expect(help.includes('--wait')).toBe(command.publishesDns === true);

  const discord = subcommand(all, command.name);
  if (!inFront(command, 'discord')) {
    expect(discord).toBeUndefined();
    return;
  }
  expect(discord?.description).toBe(command.description);
  const given = new Map((discord?.options ?? []).map((entry) => [entry.name, entry]));
  const expected = [...Object.keys(command.options), ...(command.secret ? ['type-password'] : [])];
  expect([...given.keys()].sort()).toEqual(expected.sort());
  for (const [name, spec] of Object.entries(command.options)) {
    const entry = given.get(name)!;
    expect(entry.type).toBe(spec.kind === 'flag' ? ApplicationCommandOptionType.Boolean : ApplicationCommandOptionType.String);
    expect(entry.required ?? false).toBe(spec.required);
    const choices = 'choices' in entry ? entry.choices?.map((choice) => choice.value) : undefined;
    expect(choices).toEqual(spec.kind === 'text' ? spec.choices : undefined);
  }
}

describe('every command, generated into both fronts from its definition', async () => {
  const commands = await loadCommands();
  // The table below is built from the folder: an empty folder would register no test at all, so it fails here instead.
  if (commands.length === 0) throw new Error('The commands folder holds no definition: test/fronts.test.ts would test nothing.');

  it('the commands folder holds the commands of the interface, each in its fronts', () => {
    expect(commands.map((command) => command.name)).toEqual([
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
      'run-job',
      'setup',
      'start',
      'status',
      'user-add',
      'user-remove',
      'users',
    ]);
    expect(commands.filter((command) => !inFront(command, 'discord')).map((command) => command.name)).toEqual(['run-job', 'start']);
  });

  it.each(commands.map((command) => [command.name, command] as const))(
    '%s: the same options in mailops --help and in /mail',
    async (_name, command) => {
      await expectBothFronts(command, commands);
    }
  );

  it('the commands that ask in Discord are exactly those that take --yes on the command line', async () => {
    const asking = commands
      .filter((command) => command.confirm !== undefined)
      .map((command) => command.name)
      .sort();
    expect(asking).toEqual([...confirmableOperations].sort());
    expect(asking).toEqual(['alias-remove', 'alias-set', 'dkim-retire', 'dkim-rotate', 'setup', 'user-remove']);
  });
});

describe('a command added as one definition', () => {
  const widget = defineCommand({
    name: 'widget-set',
    description: 'Set a widget (a command that exists only in this test)',
    access: 'change',
    options: {
      address: option.address('The widget address'),
      domain: option.optionalDomain('Its domain'),
      shape: option.choice('Its shape', ['round', 'square']),
      force: option.flag('Even when it is set'),
    },
    target: 'address',
    secret: { title: 'Widget secret', label: 'Secret', minLength: 12, maxLength: 64 },
    publishesDns: true,
    confirm: ({ address }) => `Set ${address}?`,
    run: async (_context, input) => input,
    render: { text: (input) => `set ${input.address}`, discord: (input) => ({ content: `set ${input.address}` }) },
  });

  it('appears in mailops --help, in mailops widget-set --help and in /mail, with the same options', async () => {
    const commands = [...(await loadCommands()), widget];
    await expectBothFronts(widget, commands);
    expect((await cli(['widget-set', '--help'], commands)).stdout.split('\n')[0]).toBe(
      'Usage: mailops widget-set [options] <address> [domain]'
    );
  });

  it('asks on the command line as it does in Discord: refused (exit 3, audited) without --yes, run with it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailops-fronts-'));
    for (const file of ['key', 'known_hosts']) writeFileSync(path.join(dir, file), '', { mode: 0o600 });
    const env = {
      MAIL_HOST: 'ssh://root@127.0.0.1:1',
      SSH_KEY_FILE: path.join(dir, 'key'),
      SSH_KNOWN_HOSTS_FILE: path.join(dir, 'known_hosts'),
      MAIL_DOMAINS: 'example.com',
      STATE_DB: path.join(dir, 'state.db'),
    };
    const refused = await cli(['widget-set', 'w@example.com', '--json', '--actor', 'tester'], [widget], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('widget-set w@example.com needs confirmation; nothing was changed. Set w@example.com?');
    expect(JSON.parse(refused.stdout).error.code).toBe('confirmation-required');
    const confirmed = await cli(['widget-set', 'w@example.com', '--shape', 'round', '--force', '--yes', '--json'], [widget], env);
    expect(confirmed.code).toBe(0);
    expect(JSON.parse(confirmed.stdout)).toEqual({ ok: true, address: 'w@example.com', shape: 'round', force: true });
  });
});
