// The README is the manual: it must list every setting and every command the code has.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCommands } from '../src/command/catalogue.ts';
import { positionalNames } from '../src/command/options.ts';
import { variables } from '../src/config.ts';
import { repoRoot } from './lab/lab.ts';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

describe('README.md', () => {
  it('has every configuration variable in its table', () => {
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Commands'));
    for (const name of Object.keys(variables)) expect(table).toMatch(new RegExp(`\\| [^|]*\`${name}\``));
  });

  it('has every command in its reference, with an example', async () => {
    const table = readme.slice(readme.indexOf('## Commands'), readme.indexOf('**Exit codes:**'));
    for (const command of await loadCommands()) {
      expect(table).toMatch(new RegExp(`^\\| \`${command.name}[ \`].*\\|[^|]*mailops ${command.name}\\b[^|]*\\|$`, 'm'));
    }
  });

  it('shows each command with the arguments and options its definition gives the command line', async () => {
    const table = readme.slice(readme.indexOf('## Commands'), readme.indexOf('**Exit codes:**'));
    for (const command of await loadCommands()) {
      const usage = new RegExp(`^\\| \`(${command.name}(?: [^\`]*)?)\``, 'm').exec(table)?.[1] ?? '';
      const shown = usage.replaceAll('\\|', '|');
      for (const name of positionalNames(command.options)) {
        const spec = command.options[name]!;
        const placeholder = spec.kind === 'text' && spec.choices ? `<${spec.choices.join('|')}>` : `<${name}>`;
        expect(shown, `${command.name}: ${placeholder}`).toContain(spec.required ? placeholder : `[${placeholder}]`);
      }
      const flags = [
        ...Object.entries(command.options)
          .filter(([, spec]) => spec.cli === 'option')
          .map(([name]) => `--${name}`),
        ...(command.confirm ? ['--yes'] : []),
        ...(command.secret ? ['--password-stdin'] : []),
        ...(command.publishesDns ? ['--wait'] : []),
      ];
      for (const flag of flags) expect(shown, `${command.name}: ${flag}`).toMatch(new RegExp(`${flag}\\b`));
      for (const given of shown.match(/--[a-z-]+/g) ?? []) expect(flags, `${command.name}: ${given}`).toContain(given);
    }
  });
});
