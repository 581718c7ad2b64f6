// Small test-only commands that exercise the bot's generic mechanisms (confirmation, password modal, secrets in
// replies, progress, failures, autocomplete) end to end, independently of which operations exist yet.

import { randomBytes } from 'node:crypto';
import { defineCommand, type CommandDefinition, type Reply } from '../../src/command/definition.ts';
import { option } from '../../src/command/options.ts';
import type { SuggestionSource } from '../../src/command/suggestions.ts';
import { elapse } from '../wait.ts';

/** What the probes did, for the tests to look at. */
export const probeLog = {
  executed: [] as Array<{ command: string; actor: string; input: Record<string, unknown>; secret: string | undefined }>,
  generated: [] as string[],
  /** What probe-press did, in order: "started", "pressed", "put back". */
  pressSteps: [] as string[],
  suggestionCalls: 0,
  /** How many of those lookups have returned. */
  suggestionReturns: 0,
};

/** An autocomplete source that counts its lookups and takes `delayMs` (tests change it: a slow source is the point). */
export const slowSource: SuggestionSource & { delayMs: number } = {
  name: 'probe',
  ttlMs: 60_000,
  delayMs: 0,
  async list() {
    probeLog.suggestionCalls += 1;
    await elapse('a slow suggestion source', this.delayMs);
    probeLog.suggestionReturns += 1;
    return ['alpha@example.test', 'beta@example.test', 'alphabet@example.org'];
  },
};

/** A probe answers in Discord only; its result is the reply itself. */
const asReply = { text: () => '', discord: (reply: Reply) => reply };

export const probeCommands: CommandDefinition[] = [
  defineCommand({
    name: 'probe-confirm',
    description: 'test: a change that asks for confirmation',
    access: 'change',
    options: { address: option.address('an address') },
    target: 'address',
    confirm: ({ address }) => (address.startsWith('noask') ? undefined : `Really change **${address}**?`),
    working: 'Changing…',
    async run(context, input) {
      probeLog.executed.push({ command: 'probe-confirm', actor: context.actor, input, secret: context.secret });
      return { content: `Changed ${input.address}.` };
    },
    render: asReply,
  }),
  defineCommand({
    name: 'probe-secret',
    description: 'test: a public change that returns a generated or typed password',
    access: 'change',
    options: { address: option.address('an address') },
    target: 'address',
    secret: { title: 'Password', label: 'Password', minLength: 12, maxLength: 128 },
    async run(context, input) {
      probeLog.executed.push({ command: 'probe-secret', actor: context.actor, input, secret: context.secret });
      if (context.secret !== undefined) return { embeds: [{ title: `Password of ${input.address} set`, description: 'as typed' }] };
      const password = `gen-${randomBytes(12).toString('base64url')}`;
      probeLog.generated.push(password);
      context.runtime.logger.info({ password, address: input.address }, 'probe: generated a password');
      return { embeds: [{ title: `Added ${input.address}` }], secret: { label: `Password for ${input.address}`, value: password } };
    },
    render: asReply,
  }),
  defineCommand({
    name: 'probe-private',
    description: 'test: a private change that returns a generated password',
    access: 'change',
    options: { address: option.address('an address', { suggest: slowSource }) },
    target: 'address',
    visibility: 'private',
    async run(context, input) {
      const password = `gen-${randomBytes(12).toString('base64url')}`;
      probeLog.generated.push(password);
      return { content: `Added ${input.address}.`, secret: { label: 'Password', value: password } };
    },
    render: asReply,
  }),
  defineCommand({
    name: 'probe-press',
    description: 'test: a change that waits for a button press halfway, and puts its work back when there is none',
    access: 'change',
    options: { address: option.address('an address') },
    target: 'address',
    async run(context, input) {
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
    render: asReply,
  }),
  defineCommand({
    name: 'probe-progress',
    description: 'test: long work with progress, past the 3-second window',
    access: 'read',
    options: { steps: option.text('how many steps'), 'step-ms': option.choice('ms per step', ['10', '1100']) },
    working: 'Starting…',
    async run(context, input) {
      for (let step = 1; step <= Number(input.steps); step += 1) {
        // Work that takes time is what this probe is for: 1100 ms steps carry it past Discord's 3-second window.
        await elapse('one step of long work', Number(input['step-ms'] ?? '10'));
        await context.progress(`Step ${step} of ${input.steps}`);
      }
      return { embeds: [{ title: 'Done', description: `${input.steps} steps` }] };
    },
    render: asReply,
  }),
  defineCommand({
    name: 'probe-crash',
    description: 'test: a command with a bug',
    access: 'read',
    options: {},
    async run() {
      throw new TypeError('Cannot read properties of undefined (reading "oops")');
    },
    render: asReply,
  }),
  defineCommand({
    name: 'probe-suggest',
    description: 'test: autocomplete from a slow source',
    access: 'read',
    options: { address: option.address('an address', { suggest: slowSource }) },
    async run(_context, input) {
      return { content: input.address };
    },
    render: asReply,
  }),
];
