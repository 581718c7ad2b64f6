// Small test-only commands that exercise the bot's generic mechanisms (confirmation, password modal, secrets in
// replies, progress, failures, autocomplete) end to end, independently of which operations exist yet.

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineCommand, type MailCommand } from '../../src/bot/command.ts';
import { option } from '../../src/bot/options.ts';
import type { SuggestionSource } from '../../src/bot/suggestions.ts';

/** What the probes did, for the tests to look at. */
export const probeLog = {
  executed: [] as Array<{ command: string; actor: string; input: Record<string, unknown>; secret: string | undefined }>,
  generated: [] as string[],
  /** What probe-press did, in order: "started", "pressed", "put back". */
  pressSteps: [] as string[],
  suggestionCalls: 0,
};

/** An autocomplete source that counts its lookups and takes `delayMs` (tests change it). */
export const slowSource: SuggestionSource & { delayMs: number } = {
  name: 'probe',
  ttlMs: 60_000,
  delayMs: 0,
  async list() {
    probeLog.suggestionCalls += 1;
    await sleep(this.delayMs);
    return ['alpha@example.test', 'beta@example.test', 'alphabet@example.org'];
  },
};

export const probeCommands: MailCommand[] = [
  defineCommand({
    name: 'probe-confirm',
    description: 'test: a change that asks for confirmation',
    access: 'change',
    options: { address: option.address('an address') },
    target: 'address',
    confirm: ({ address }) => (address.startsWith('noask') ? undefined : `Really change **${address}**?`),
    working: 'Changing…',
    async execute(context, input) {
      probeLog.executed.push({ command: 'probe-confirm', actor: context.actor, input, secret: context.secret });
      return { content: `Changed ${input.address}.` };
    },
  }),
  defineCommand({
    name: 'probe-secret',
    description: 'test: a public change that returns a generated or typed password',
    access: 'change',
    options: { address: option.address('an address'), 'type-password': option.flag('type it') },
    target: 'address',
    askSecret: { when: (input) => input['type-password'], title: 'Password', label: 'Password', minLength: 12, maxLength: 128 },
    async execute(context, input) {
      probeLog.executed.push({ command: 'probe-secret', actor: context.actor, input, secret: context.secret });
      if (context.secret !== undefined) return { embeds: [{ title: `Password of ${input.address} set`, description: 'as typed' }] };
      const password = `gen-${randomBytes(12).toString('base64url')}`;
      probeLog.generated.push(password);
      context.runtime.logger.info({ password, address: input.address }, 'probe: generated a password');
      return { embeds: [{ title: `Added ${input.address}` }], secret: { label: `Password for ${input.address}`, value: password } };
    },
  }),
  defineCommand({
    name: 'probe-private',
    description: 'test: a private change that returns a generated password',
    access: 'change',
    options: { address: option.address('an address', { suggest: slowSource }) },
    target: 'address',
    visibility: 'private',
    async execute(context, input) {
      const password = `gen-${randomBytes(12).toString('base64url')}`;
      probeLog.generated.push(password);
      return { content: `Added ${input.address}.`, secret: { label: 'Password', value: password } };
    },
  }),
  defineCommand({
    name: 'probe-press',
    description: 'test: a change that waits for a button press halfway, and puts its work back when there is none',
    access: 'change',
    options: { address: option.address('an address') },
    target: 'address',
    async execute(context, input) {
      probeLog.pressSteps.push('started');
      try {
        await context.waitForPress({ text: `Publish ${input.address}, then press the button.`, button: 'Published', working: 'Checking…' });
      } catch (error) {
        probeLog.pressSteps.push('put back');
        throw error;
      }
      probeLog.pressSteps.push('pressed');
      return { content: `Published ${input.address}.` };
    },
  }),
  defineCommand({
    name: 'probe-progress',
    description: 'test: long work with progress, past the 3-second window',
    access: 'read',
    options: { steps: option.text('how many steps'), 'step-ms': option.choice('ms per step', ['10', '1100']) },
    working: 'Starting…',
    async execute(context, input) {
      for (let step = 1; step <= Number(input.steps); step += 1) {
        await sleep(Number(input['step-ms'] ?? '10'));
        await context.progress(`Step ${step} of ${input.steps}`);
      }
      return { embeds: [{ title: 'Done', description: `${input.steps} steps` }] };
    },
  }),
  defineCommand({
    name: 'probe-crash',
    description: 'test: a command with a bug',
    access: 'read',
    options: {},
    async execute() {
      throw new TypeError('Cannot read properties of undefined (reading "oops")');
    },
  }),
  defineCommand({
    name: 'probe-suggest',
    description: 'test: autocomplete from a slow source',
    access: 'read',
    options: { address: option.address('an address', { suggest: slowSource }) },
    async execute(_context, input) {
      return { content: input.address };
    },
  }),
];
