// Every command of the public interface, in the order interface.md lists them. A command without `run` would be listed
// (so that --help shows the whole tool) and answer "not available yet".

import type { CliCommand } from './command.ts';
import { aliasesCommand, aliasRemoveCommand, aliasSetCommand } from './commands/aliases.ts';
import { certRenewCommand } from './commands/cert-renew.ts';
import { certStatusCommand } from './commands/cert-status.ts';
import { checkCommand } from './commands/check.ts';
import { dkimRetireCommand, dkimRotateCommand, dkimShowCommand } from './commands/dkim.ts';
import { dnsDiffCommand } from './commands/dns-diff.ts';
import { runJobCommand } from './commands/run-job.ts';
import { passwdCommand, userAddCommand, userRemoveCommand, usersCommand } from './commands/senders.ts';
import { startCommand } from './commands/start.ts';
import { statusCommand } from './commands/status.ts';

export const commands: CliCommand[] = [
  userAddCommand,
  passwdCommand,
  userRemoveCommand,
  usersCommand,
  aliasSetCommand,
  aliasRemoveCommand,
  aliasesCommand,
  dkimRotateCommand,
  dkimShowCommand,
  dkimRetireCommand,
  certRenewCommand,
  certStatusCommand,
  checkCommand,
  dnsDiffCommand,
  statusCommand,
  runJobCommand,
  startCommand,
];
