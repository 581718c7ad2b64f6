import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMailCommand, loadCommands } from './loader.ts';

function folderWith(files: Record<string, string>): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'mailops-commands-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(directory, name), text);
  return directory;
}

const command = (name: string) => `export default { name: '${name}', description: 'does ${name}', access: 'read', options: {} };\n`;

describe('loadCommands', () => {
  it('loads every command file in name order, leaving tests aside', async () => {
    const directory = folderWith({ 'b-two.ts': command('b-two'), 'a-one.ts': command('a-one'), 'a-one.test.ts': 'throw new Error("not loaded");' });
    expect((await loadCommands(directory)).map((loaded) => loaded.name)).toEqual(['a-one', 'b-two']);
  });

  it('refuses a file whose command has another name', async () => {
    await expect(loadCommands(folderWith({ 'users.ts': command('aliases') }))).rejects.toThrow('users.ts defines "aliases"');
  });

  it('refuses a file without a default export', async () => {
    await expect(loadCommands(folderWith({ 'users.ts': 'export const users = 1;\n' }))).rejects.toThrow('users.ts must default-export a command');
  });
});

describe('buildMailCommand', () => {
  it('refuses two commands of the same name and names Discord limits', () => {
    const users = { name: 'users', description: 'list', access: 'read' as const, options: {} };
    expect(() => buildMailCommand([users, users])).toThrow('Two commands are named "users"');
    expect(() => buildMailCommand([{ ...users, name: 'Not Valid' }])).toThrow();
  });
});
