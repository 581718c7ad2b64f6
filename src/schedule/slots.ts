// Schedule slots: the times a cron expression names. node-cron fires the jobs; the slots say, at start-up, whether a
// job's time came while mailops was not running (the latest slot at or before now is later than the one it handled),
// so that it runs once to catch up — whatever the clock says, which tests set.

import { CronExpressionParser } from 'cron-parser';

/** The latest time at or before `now` that the expression names; undefined when it cannot be computed. */
export function latestSlot(expression: string, now: Date): Date | undefined {
  try {
    return CronExpressionParser.parse(expression, { currentDate: new Date(now.getTime() + 1) }).prev().toDate();
  } catch {
    return undefined;
  }
}
