// DNS publishing as the bot offers it. With DNS_PROVIDER=manual, each record to publish (or remove) is shown in the
// command's reply as code blocks — the zone-file line and the value for a DNS panel — with a "Published" (or
// "Removed") button that only the invoker can press; the operation goes on when they press it and then checks every
// authoritative server, as with the other providers. When nobody presses in time, the operation fails and puts back
// what it did, as on any failure.

import type { PressPrompt, RunContext } from '../command/definition.ts';
import type { ManualConfirm, ManualDnsStep } from '../dns/manual.ts';
import { RecordPublishing, createPublisher } from '../dns/publisher.ts';
import { failedError, MailopsError } from '../errors.ts';
import { codeBlock } from './render.ts';

/**
 * After "Published", how long the authoritative servers may take to show the record. Bounded so that the answer still
 * fits in the press's interaction token (15 minutes) with time to spare for the work after it.
 */
export const manualPropagationTimeoutMs = 10 * 60_000;

/** What the invoker sees for one record: what to do, the record to copy, and the button. */
export function manualPrompt(step: ManualDnsStep): PressPrompt {
  const add = step.action === 'add';
  if (step.records)
    return {
      text: [
        `📝 **${step.instruction}**`,
        codeBlock(step.zoneLine),
        'In a DNS panel:',
        codeBlock(step.panelValue),
        'Press **Published** once they are all there; mailops then waits until every authoritative name server shows them.',
      ].join('\n'),
      button: 'Published',
      working: 'Waiting until every authoritative name server shows the records…',
    };
  return {
    text: [
      `📝 **${step.instruction}**`,
      codeBlock(step.zoneLine),
      `In a DNS panel: name \`${step.record.name}\`, type \`TXT\`, value:`,
      codeBlock(step.panelValue),
      add
        ? 'Press **Published** once it is there; mailops then waits until every authoritative name server shows it.'
        : 'Press **Removed** once it is gone.',
    ].join('\n'),
    button: add ? 'Published' : 'Removed',
    working: add ? `Waiting until every authoritative name server shows ${step.record.name}…` : 'Continuing…',
  };
}

function manualConfirm(context: Pick<RunContext, 'waitForPress'>): ManualConfirm {
  return async (step) => {
    try {
      await context.waitForPress(manualPrompt(step));
    } catch (error) {
      if (!(error instanceof MailopsError) || error.code !== 'no-answer') throw error;
      const hint =
        step.action === 'add'
          ? 'If you published it meanwhile, remove it again. Run the command again when you can publish the record in time, or set DNS_PROVIDER=rfc2136 or cloudflare so that mailops publishes by itself.'
          : `Remove it by hand: ${step.zoneLine}`;
      throw failedError(
        'manual-dns-not-confirmed',
        `The TXT record at ${step.record.name} was not confirmed ${step.action === 'add' ? 'published' : 'removed'}: ${error.message}`,
        { hint, cause: error }
      );
    }
  };
}

/** The `publishing` an operation takes (dkim-rotate, cert-renew), made for a command run from Discord. */
export function publishingFor(context: Pick<RunContext, 'runtime' | 'waitForPress'>): RecordPublishing {
  const { runtime } = context;
  const publisher = createPublisher(runtime.config, runtime.logger, () => runtime.now(), { manualConfirm: manualConfirm(context) });
  return new RecordPublishing(
    publisher,
    runtime.config,
    runtime.logger,
    publisher.kind === 'manual' ? manualPropagationTimeoutMs : undefined
  );
}
