// Posting queued messages without the Discord client: `mailops run-job` posts what its run queued when no bot is
// delivering, with Node's fetch against Discord's REST API (the same route, body, nonce and token the bot's REST uses),
// so that the command line never loads discord.js. Rendering is the bot's, as for every delivery (alert-messages.ts).

import type { MessagePoster } from '../schedule/outcome.ts';
import { discordPoster } from './alert-messages.ts';

/** An HTTP refusal, with its status for delivery.ts (4xx other than 408 and 429 is permanent). */
class DiscordHttpError extends Error {
  readonly status: number;
  constructor(status: number, text: string) {
    super(`Discord answered ${status}: ${text.slice(0, 200)}`);
    this.status = status;
  }
}

/** A poster over fetch: `apiUrl` as DISCORD_API_URL (`https://discord.com/api`), API version 10 as discord.js uses. */
export function fetchPoster(apiUrl: string, token: string, oncallRoleId: string | undefined, timeoutMs = 15_000): MessagePoster {
  const rest = {
    async post(route: string, options: { body?: unknown } = {}): Promise<unknown> {
      const response = await fetch(`${apiUrl.replace(/\/$/, '')}/v10${route}`, {
        method: 'POST',
        headers: { authorization: `Bot ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(options.body ?? {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new DiscordHttpError(response.status, await response.text().catch(() => ''));
      return response.json();
    },
  };
  return discordPoster(rest, oncallRoleId);
}
