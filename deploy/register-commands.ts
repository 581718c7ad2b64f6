// `npm run register [-- --env-file <path>]`: registers /mail with Discord — in DISCORD_GUILD_ID when it is set
// (instant), globally otherwise. Run it after installing or upgrading mailops; the bot itself registers nothing.
// Exit codes as the CLI's: 0 done, 1 Discord refused, 2 configuration missing or invalid.

import { parseArgs } from 'node:util';
import { registerCommands } from '../src/bot/registration.ts';
import { loadCommands } from '../src/command/catalogue.ts';
import { loadConfig } from '../src/config.ts';
import { asMailopsError, usageError } from '../src/errors.ts';

async function main(): Promise<number> {
  try {
    let values: { 'env-file'?: string | undefined };
    try {
      ({ values } = parseArgs({ options: { 'env-file': { type: 'string' } } }));
    } catch (error) {
      throw usageError('usage', (error as Error).message, 'Usage: npm run register [-- --env-file <path>]');
    }
    const { config } = loadConfig({
      ...(values['env-file'] === undefined ? {} : { envFile: values['env-file'] }),
      cwd: process.cwd(),
      env: process.env,
    });
    const result = await registerCommands(config, await loadCommands());
    const where = result.scope === 'guild' ? `in the server ${result.guildId}` : 'globally (Discord may take up to an hour to show them)';
    process.stdout.write(`Registered /mail with ${result.subcommands.length} subcommands ${where}: ${result.subcommands.join(', ')}\n`);
    return 0;
  } catch (error) {
    const failure = asMailopsError(error);
    process.stderr.write(`register: ${failure.explanation}\n`);
    return failure.exitCode;
  }
}

process.exitCode = await main();
