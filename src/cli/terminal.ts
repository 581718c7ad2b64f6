// What a command needs from the terminal: DNS publishing as the command line offers it, and prompts answered with
// Enter. With DNS_PROVIDER=manual, each record to publish (or remove) is printed on standard error, one at a time, and
// mailops waits for Enter — or, with --wait, does not wait for anyone and lets the authoritative check find the record
// (up to 30 minutes), for runs without a person at the keyboard.

import type { PressPrompt } from '../command/definition.ts';
import type { ManualConfirm } from '../dns/manual.ts';
import { RecordPublishing, createPublisher } from '../dns/publisher.ts';
import { failedError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';

/** What the command line gives a run: its runtime and the terminal's streams. */
export interface TerminalContext {
  runtime: Runtime;
  stdin: NodeJS.ReadableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * Resolves at the next Enter on `input`; false when the input ends first. Afterwards the input is paused and its handle
 * unreferenced, so that a finished command is not kept alive by a terminal or pipe nobody reads any more.
 */
function nextEnter(input: NodeJS.ReadableStream): Promise<boolean> {
  if ((input as { readableEnded?: boolean }).readableEnded) return Promise.resolve(false);
  const handle = input as { ref?: () => void; unref?: () => void };
  return new Promise((resolve) => {
    const finish = (pressed: boolean) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('close', onEnd);
      input.pause();
      handle.unref?.();
      resolve(pressed);
    };
    const onData = (chunk: Buffer | string) => {
      if (chunk.toString().includes('\n')) finish(true);
    };
    const onEnd = () => finish(false);
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('close', onEnd);
    handle.ref?.();
    input.resume();
  });
}

function manualConfirm(context: TerminalContext, wait: boolean): ManualConfirm {
  let queue: Promise<unknown> = Promise.resolve();
  return (step) => {
    const shown = queue.then(async () => {
      context.stderr.write(
        step.records
          ? `\n${step.instruction}\n\n${step.zoneLine}\n\nIn a DNS panel:\n${step.panelValue}\n\n`
          : `\n${step.instruction}\n\n  ${step.zoneLine}\n\n  (in a DNS panel: name ${step.record.name}, type TXT, value ${step.panelValue})\n\n`
      );
      if (wait) {
        context.stderr.write(
          step.action === 'add' ? `Waiting until every authoritative name server shows ${step.records ? 'them' : 'it'} (--wait)…\n` : ''
        );
        return;
      }
      context.stderr.write(`Press Enter once it is ${step.action === 'add' ? 'published' : 'removed'}.\n`);
      if (!(await nextEnter(context.stdin))) {
        throw failedError('manual-dns-not-confirmed', 'Standard input ended before the DNS record was confirmed.', {
          hint: 'Run the command in a terminal and press Enter once the record is published, or add --wait to let mailops check DNS itself.',
        });
      }
    });
    queue = shown.catch(() => undefined);
    return shown;
  };
}

export function publishingFor(context: TerminalContext, options: { wait: boolean }): RecordPublishing {
  const { runtime } = context;
  const publisher = createPublisher(runtime.config, runtime.logger, () => runtime.now(), {
    manualConfirm: manualConfirm(context, options.wait),
  });
  return new RecordPublishing(publisher, runtime.config, runtime.logger);
}

/** A prompt of a command (Discord's button) on the command line: its text on standard error, then Enter. */
export async function waitForEnter(context: TerminalContext, prompt: PressPrompt): Promise<void> {
  context.stderr.write(`\n${prompt.text}\n\nPress Enter once done ("${prompt.button}").\n`);
  if (!(await nextEnter(context.stdin))) {
    throw failedError('no-answer', `Standard input ended before "${prompt.button}" was confirmed.`, {
      hint: 'Run the command in a terminal and press Enter when asked.',
    });
  }
}
