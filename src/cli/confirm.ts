// The CLI's half of src/ops/confirmation.ts: a change that asks in Discord needs `--yes` here. Without it the command
// checks what it can (the address is valid, the sender or alias exists), then refuses with the question — exit 3,
// recorded in the audit trail, nothing changed.

import { refusedError } from '../errors.ts';
import { recordRefusal } from '../ops/change.ts';
import { confirmationQuestion, type ConfirmableRequest } from '../ops/confirmation.ts';
import { operationContext } from '../ops/context.ts';
import type { CommandContext } from './command.ts';

export const yesOption = { flags: '--yes', description: 'confirm the change (without it, mailops says what it would do and changes nothing)' };

export async function requireYes(context: CommandContext, request: ConfirmableRequest, yes: unknown): Promise<void> {
  if (yes === true) return;
  const operation = operationContext(context.runtime, context.actor);
  const question = await confirmationQuestion(operation, request);
  if (question === undefined) return;
  const target = 'address' in request ? request.address : request.domain;
  recordRefusal(operation, { operation: request.operation, target }, 'not confirmed');
  throw refusedError('confirmation-required', `${request.operation} ${target} needs confirmation; nothing was changed. ${question}`, 'Run it again with --yes to confirm.');
}
