import { describe, expect, it } from 'vitest';
import { loadCommands } from '../bot/loader.ts';
import { commands as cliCommands } from '../cli/registry.ts';
import { confirmableOperations } from './confirmation.ts';

describe('one confirmation rule for both fronts', () => {
  it('the commands that may ask in Discord are exactly those that take --yes in the CLI', async () => {
    const discord = (await loadCommands()).filter((command) => command.confirm !== undefined).map((command) => command.name).sort();
    const cli = cliCommands.filter((command) => command.options.some((option) => option.flags === '--yes')).map((command) => command.name).sort();
    expect(discord).toEqual([...confirmableOperations].sort());
    expect(cli).toEqual([...confirmableOperations].sort());
    expect(cli).toEqual(['alias-remove', 'alias-set', 'dkim-retire', 'dkim-rotate', 'user-remove']);
  });
});
