// What runs beside the bot in `mailops start`: the scheduler (health reports, certificate watch, DNS drift, DKIM
// retirement, and the delivery of their messages), started after the bot has logged in, stopped before it
// disconnects.

import type { Runtime } from '../runtime.ts';
import { Scheduler } from '../schedule/scheduler.ts';
import type { BotService } from './bot.ts';

export function botServices(runtime: Runtime): BotService[] {
  return [new Scheduler(runtime)];
}
