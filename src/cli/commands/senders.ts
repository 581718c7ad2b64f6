// user-add, passwd, user-remove, users.

import { operationContext } from '../../ops/context.ts';
import { addSender, changeSenderPassword, listSenders, removeSender, type PasswordResult } from '../../ops/senders.ts';
import { requireYes, yesOption } from '../confirm.ts';
import type { CliCommand, CommandContext } from '../command.ts';
import { readFirstLine } from '../stdin.ts';

const passwordOption = { flags: '--password-stdin', description: 'read the password from the first line of standard input' };

function renderPassword(result: PasswordResult, verb: string): string {
  const lines = [result.password === undefined ? `${verb} ${result.address} with the password given.` : `${verb} ${result.address}.`];
  if (result.password !== undefined) lines.push(`Password (shown once, store it now): ${result.password}`);
  if (result.restarted) lines.push(`chasquid was restarted (${result.restartReason ?? 'to load the change'}).`);
  for (const repair of result.repaired) lines.push(`Repaired so that chasquid can read it: ${repair}`);
  lines.push('chasquid picks up the change within 30 seconds.');
  return lines.join('\n');
}

async function passwordInput(context: CommandContext, address: string, options: Record<string, unknown>) {
  return options.passwordStdin === true ? { address, password: await readFirstLine(context.stdin) } : { address };
}

export const userAddCommand: CliCommand = {
  name: 'user-add',
  summary: 'add a sender (SMTP AUTH user); generates a strong password unless one is given on stdin',
  arguments: ['<address>'],
  options: [passwordOption],
  async run(context, [address = ''], options) {
    const result = await addSender(operationContext(context.runtime, context.actor), await passwordInput(context, address, options));
    return { json: result, text: renderPassword(result, 'Added sender') };
  },
};

export const passwdCommand: CliCommand = {
  name: 'passwd',
  summary: 'set a new password for a sender (generated unless given on stdin)',
  arguments: ['<address>'],
  options: [passwordOption],
  async run(context, [address = ''], options) {
    const result = await changeSenderPassword(operationContext(context.runtime, context.actor), await passwordInput(context, address, options));
    return { json: result, text: renderPassword(result, 'Changed the password of') };
  },
};

export const userRemoveCommand: CliCommand = {
  name: 'user-remove',
  summary: 'remove a sender',
  arguments: ['<address>'],
  options: [{ ...yesOption, description: 'confirm the removal' }],
  async run(context, [address = ''], options) {
    await requireYes(context, { operation: 'user-remove', address }, options.yes);
    const result = await removeSender(operationContext(context.runtime, context.actor), { address, confirmed: options.yes === true });
    return { json: result, text: `Removed sender ${result.address}; it can no longer log in once chasquid reloads (within 30 seconds).` };
  },
};

export const usersCommand: CliCommand = {
  name: 'users',
  summary: 'list senders',
  arguments: ['[domain]'],
  options: [],
  async run(context, [domain]) {
    const result = await listSenders(operationContext(context.runtime, context.actor), domain === undefined ? {} : { domain });
    const owned = new Set(result.mailopsOwned);
    return { json: result, text: result.users.length === 0 ? 'No senders.' : result.users.map((user) => (owned.has(user) ? `${user}  (mailops probe)` : user)).join('\n') };
  },
};
