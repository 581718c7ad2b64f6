// The README is the manual: it must list every setting and every command the code has.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCommands } from '../src/command/catalogue.ts';
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
});
