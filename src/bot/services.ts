// What runs beside the bot in `mailops start`. The scheduler (health reports, certificate watch, DNS drift, DKIM
// retirement) adds itself here as a BotService: started after the bot has logged in, stopped before it disconnects.

import type { Runtime } from '../runtime.ts';
import type { BotService } from './bot.ts';

export function botServices(_runtime: Runtime): BotService[] {
  return [];
}
