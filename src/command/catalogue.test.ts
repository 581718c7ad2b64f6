import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMailCommand } from '../bot/tree.ts';
import { loadCommands } from './catalogue.ts';

function folderWith(files: Record<string, string>): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'mailops-commands-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(directory, name), text);
  return directory;
}

const command = (name: string) =>
  `export default { name: '${name}', description: 'does ${name}', access: 'read', options: {}, run: async () => ({}), render: { text: () => '', discord: () => ({}) } };\n`;

describe('loadCommands', () => {
  it('loads every command file in name order, leaving tests aside', async () => {
    const directory = folderWith({
      'b-two.ts': command('b-two'),
      'a-one.ts': command('a-one'),
      'a-one.test.ts': 'throw new Error("not loaded");',
    });
    expect((await loadCommands(directory)).map((loaded) => loaded.name)).toEqual(['a-one', 'b-two']);
  });

  it('refuses a file whose command has another name', async () => {
    await expect(loadCommands(folderWith({ 'users.ts': command('aliases') }))).rejects.toThrow('users.ts defines "aliases"');
  });

  it('refuses a command in Discord that cannot render for Discord', async () => {
    const textOnly =
      "export default { name: 'users', description: 'list', access: 'read', options: {}, run: async () => ({}), render: { text: () => '' } };\n";
    await expect(loadCommands(folderWith({ 'users.ts': textOnly }))).rejects.toThrow(
      'users.ts: a command that exists in Discord needs render.discord'
    );
  });

  it('refuses a file without a default export', async () => {
    await expect(loadCommands(folderWith({ 'users.ts': 'export const users = 1;\n' }))).rejects.toThrow(
      'users.ts must default-export a command'
    );
  });
});

describe('buildMailCommand', () => {
  it('refuses two commands of the same name and names Discord limits', () => {
    const users = {
      name: 'users',
      description: 'list',
      access: 'read' as const,
      options: {},
      run: async () => ({}),
      render: { text: () => '', discord: () => ({}) },
    };
    expect(() => buildMailCommand([users, users])).toThrow('Two commands are named "users"');
    expect(() => buildMailCommand([{ ...users, name: 'Not Valid' }])).toThrow();
  });
});
