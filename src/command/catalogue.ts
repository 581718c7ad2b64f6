// The commands of this checkout: every `commands/<name>.ts` (tests aside) default-exports one definition, whose name
// must be its file's name. This folder is the only list of commands; both fronts are built from what it holds, in
// name order, so that nothing depends on the file system's order.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { inFront, type CommandDefinition } from './definition.ts';

/** The commands folder of this checkout. */
export const commandsDirectory = path.resolve(import.meta.dirname, '../../commands');

export async function loadCommands(directory = commandsDirectory): Promise<CommandDefinition[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts')).sort();
  return Promise.all(
    files.map(async (file) => {
      const module = (await import(pathToFileURL(path.join(directory, file)).href)) as { default?: CommandDefinition };
      const command = module.default;
      const expected = file.slice(0, -'.ts'.length);
      if (!command || typeof command.name !== 'string' || typeof command.run !== 'function') {
        throw new Error(`${file} must default-export a command made with defineCommand().`);
      }
      if (inFront(command, 'discord') && !command.render.discord)
        throw new Error(`${file}: a command that exists in Discord needs render.discord.`);
      if (command.name !== expected)
        throw new Error(`${file} defines "${command.name}"; a command file is named after its command (${command.name}.ts).`);
      return command;
    })
  );
}
