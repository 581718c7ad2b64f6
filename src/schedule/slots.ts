// Schedule slots: the times a cron expression names, in local time (five fields, or six with leading seconds, or a
// name like @daily). One library, cron-parser, answers every question about them, so that they cannot disagree:
//   - whether a CRON_* setting is valid (config.ts calls `cronProblem`): an expression is valid when both slot
//     computations below succeed for it;
//   - when a job fires next (`nextSlot`: the scheduler waits for it with a timer);
//   - at start-up, whether a job's time came while mailops was not running (`latestSlot` at or before now is later
//     than the slot it handled), so that it runs once to catch up.
// Both computations take the time to start from (the runtime's clock, which tests set) and throw when they cannot
// answer; the scheduler reports that error rather than skip the job in silence.

import { CronExpressionParser } from 'cron-parser';

/** Why cron-parser cannot compute a slot of `expression`, as a sentence for an operator. */
export class ScheduleError extends Error {
  readonly expression: string;

  constructor(expression: string, reason: string) {
    super(`The schedule "${expression}" cannot be followed: ${reason.replace(/\.$/, '')}.`);
    this.name = 'ScheduleError';
    this.expression = expression;
  }
}

function parse(expression: string, from: Date) {
  // cron-parser reads an empty expression as "every minute", and `H` as a time it picks at random on every reading
  // (so the slot that fires and the slot found missed could differ): neither is a schedule anyone means.
  if (expression.trim() === '') throw new ScheduleError(expression, 'it is empty');
  if (/\bH\b/.test(expression)) throw new ScheduleError(expression, 'H (a hashed time) is not supported; give the minute and hour');
  try {
    return CronExpressionParser.parse(expression, { currentDate: from });
  } catch (error) {
    throw new ScheduleError(expression, (error as Error).message);
  }
}

function slot(expression: string, from: Date, direction: 'prev' | 'next'): Date {
  const parsed = parse(expression, from);
  try {
    return parsed[direction]().toDate();
  } catch (error) {
    throw new ScheduleError(expression, `no ${direction === 'prev' ? 'earlier' : 'later'} time matches (${(error as Error).message})`);
  }
}

/** The latest time at or before `now` that the expression names. */
export function latestSlot(expression: string, now: Date): Date {
  return slot(expression, new Date(now.getTime() + 1), 'prev');
}

/** The first time after `time` that the expression names. */
export function nextSlot(expression: string, time: Date): Date {
  return slot(expression, time, 'next');
}

/** What is wrong with a schedule, or undefined when the scheduler can follow it from `now`. */
export function cronProblem(expression: string, now = new Date()): string | undefined {
  try {
    latestSlot(expression, now);
    nextSlot(expression, now);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
