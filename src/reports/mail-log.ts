// chasquid's mail log (the file at `mail_log_path`, or what syslog made of it): one line per event of a message's
// life — queued, sent or failed per recipient, a queue loop that will retry, all done — plus authentication failures.
//
// Each line starts with a timestamp, whose form depends on who wrote the file:
//   - chasquid itself (mail_log_path is a file): `2026-12-01 21:45:01.123456 <event>`, the host's local time;
//   - syslog (rsyslog's classic format): `Dec  1 21:45:01 host chasquid[123]: <event>`, without a year;
//   - syslog in RFC 3339: `2026-12-01T21:45:01.123456+00:00 host chasquid[123]: <event>`;
//   - nothing, as `journalctl -o cat` prints it.
// The events, as chasquid 1.11 to 1.15 write them (older builds say `sent successfully`, `sent failed (…)`, and omit
// `from=` in the queue-loop lines):
//   <id> from=<from> queued ip=<ip> to=[<to> <to>…]
//   <id> from=<from> to=<to> sent
//   <id> from=<from> to=<to> failed (permanent|temporary): <error, ending with the remote server's reply>
//   <id> from=<from> completed loop, next in <Go duration>
//   <id> from=<from> all done
//   <ip:port> auth failed for <user>
// A remote server's reply may span several lines: chasquid writes the lines after the first as they came, without a
// timestamp, and syslog turns the line breaks into `#012`. Both are joined back into the reply.
// A hostile server can make such a line look like one of chasquid's own (`550-2026-12-01 10:00:00.000000 X from=a
// to=b sent`): in the file it is then a stamped line like any other. What gives it away is time: chasquid writes one
// entry at once, and its entries in the order of their timestamps. So after a `failed` line, a stamped line that claims
// an earlier time than that failure, or a later time than a line written after it, is still the reply. (A forger who
// guesses chasquid's clock to within the gap between two entries, a millisecond or so, is not caught.)
//
// Everything in a line after the timestamp can be chosen by strangers (an address in MAIL FROM, a remote server's
// reply) and may end up in Discord: values are kept as data, control and bidirectional-override characters are
// dropped, and lengths are capped. Nothing here throws; a line we do not know gives undefined.

export type MailLogEvent =
  | { kind: 'queued'; at?: Date; id: string; from: string; to: string[]; ip?: string }
  | { kind: 'sent'; at?: Date; id: string; from: string; to: string }
  | { kind: 'failed'; at?: Date; id: string; from: string; to: string; permanent: boolean; reply: string }
  | { kind: 'done'; at?: Date; id: string; from?: string }
  | { kind: 'retry'; at?: Date; id: string; from?: string; nextInSeconds?: number }
  | { kind: 'auth-failed'; at?: Date; ip: string; user: string };

export interface MailLogOptions {
  /** The year of classic syslog timestamps, which have none (default: the current year, UTC). */
  year?: number;
  /**
   * The offset of the mail host's clock from UTC, in minutes, for timestamps written without a zone (chasquid's own
   * and classic syslog's); default 0, as on most servers.
   */
  utcOffsetMinutes?: number;
}

/** The longest reply kept (a remote server's text, shown to operators). */
export const maxReplyLength = 500;
const maxAddressLength = 320;
const maxIdLength = 64;
/** Longer lines are cut before matching: no real line comes close, and patterns stay cheap on hostile ones. */
const maxLineLength = 8192;
const maxRecipients = 100;

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const chasquidStamp = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? /;
const rfc3339Syslog = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})) \S+ (\S+?)(?:\[\d+\])?: /;
const classicSyslog = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) \S+ (\S+?)(?:\[\d+\])?: /;

// Control characters (C0, DEL, C1) and the bidirectional overrides that can make text read backwards.
// eslint-disable-next-line no-control-regex
const unsafeCharacters = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g;

/** Text from a stranger as one plain line: unsafe characters become spaces, runs of spaces one, at most `max` long. */
export function plainText(text: string, max: number): string {
  const plain = text.replace(unsafeCharacters, ' ').replace(/ {2,}/g, ' ').trim();
  return plain.length > max ? `${plain.slice(0, max - 1)}…` : plain;
}

const token = (text: string, max: number) => plainText(text, max).replace(/ /g, '');

/** Go's time.Duration text (`20m0s`, `1h2m3.5s`, `500ms`) in seconds. */
export function goDurationSeconds(text: string): number | undefined {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, μs: 1e-6, ns: 1e-9 };
  if (text === '0s' || text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|μs|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) return undefined;
  const seconds = parts.reduce((sum, [, value, unit]) => sum + Number(value) * units[unit!]!, 0);
  return Math.round(seconds * 1000) / 1000;
}

interface Stamped {
  at?: Date;
  body: string;
  /** Whether the line carried a timestamp (so a line without one is the continuation of a reply). */
  stamped: boolean;
}

function zonelessDate(parts: number[], options: MailLogOptions): Date | undefined {
  const [year, month, day, hour, minute, second, millisecond = 0] = parts as [number, number, number, number, number, number, number?];
  const time = Date.UTC(year, month, day, hour, minute, second, millisecond) - (options.utcOffsetMinutes ?? 0) * 60_000;
  const date = new Date(time);
  // Date.UTC rolls 31 Feb over into March: such a stamp is not a date.
  return Number.isNaN(time) || new Date(Date.UTC(year, month, day)).getUTCDate() !== day ? undefined : date;
}

/** Splits a line into its timestamp and the event text; undefined for syslog lines of other programs. */
function unstamp(line: string, options: MailLogOptions): Stamped | undefined {
  let match = chasquidStamp.exec(line);
  if (match) {
    const [, year, month, day, hour, minute, second, fraction] = match;
    const at = zonelessDate(
      [
        Number(year),
        Number(month) - 1,
        Number(day),
        Number(hour),
        Number(minute),
        Number(second),
        Number((fraction ?? '0').padEnd(3, '0').slice(0, 3)),
      ],
      options
    );
    return { ...(at ? { at } : {}), body: line.slice(match[0].length), stamped: true };
  }
  match = rfc3339Syslog.exec(line);
  if (match) {
    if (match[2] !== 'chasquid') return undefined;
    const at = new Date(match[1]!);
    return { ...(Number.isNaN(at.getTime()) ? {} : { at }), body: line.slice(match[0].length), stamped: true };
  }
  match = classicSyslog.exec(line);
  if (match) {
    if (match[6] !== 'chasquid') return undefined;
    const month = months.indexOf(match[1]!);
    const at =
      month === -1
        ? undefined
        : zonelessDate(
            [options.year ?? new Date().getUTCFullYear(), month, Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5])],
            options
          );
    return { ...(at ? { at } : {}), body: line.slice(match[0].length), stamped: true };
  }
  return { body: line, stamped: false };
}

const queued = /^(\S+) from=(\S*) queued ip=(\S+) to=\[([^\]]*)\]$/;
const sent = /^(\S+) from=(\S*) to=(\S+) sent(?: successfully)?$/;
const failed = /^(\S+) from=(\S*) to=(\S+) (?:sent )?failed \((permanent|temporary)\): (.*)$/;
const loop = /^(\S+)(?: from=(\S*))? completed loop, next in (\S+)$/;
const allDone = /^(\S+)(?: from=(\S*))? all done$/;
const authFailed = /^(\S+) auth(?:entication)? failed for (.+)$/;

/** The event of one log entry's text, without its timestamp. */
function parseBody(body: string, at: Date | undefined): MailLogEvent | undefined {
  const when = at ? { at } : {};
  let match = failed.exec(body);
  if (match) {
    // syslog writes the line breaks of a multi-line reply as #012.
    const reply = plainText(match[5]!.replace(/#012/g, ' '), maxReplyLength);
    return {
      kind: 'failed',
      ...when,
      id: token(match[1]!, maxIdLength),
      from: token(match[2]!, maxAddressLength),
      to: token(match[3]!, maxAddressLength),
      permanent: match[4] === 'permanent',
      reply,
    };
  }
  match = sent.exec(body);
  if (match) {
    return {
      kind: 'sent',
      ...when,
      id: token(match[1]!, maxIdLength),
      from: token(match[2]!, maxAddressLength),
      to: token(match[3]!, maxAddressLength),
    };
  }
  match = queued.exec(body);
  if (match) {
    const to = match[4]!
      .split(' ')
      .filter((address) => address !== '')
      .slice(0, maxRecipients)
      .map((address) => token(address, maxAddressLength));
    return {
      kind: 'queued',
      ...when,
      id: token(match[1]!, maxIdLength),
      from: token(match[2]!, maxAddressLength),
      to,
      ip: token(match[3]!, 64),
    };
  }
  match = loop.exec(body);
  if (match) {
    const nextInSeconds = goDurationSeconds(match[3]!);
    return {
      kind: 'retry',
      ...when,
      id: token(match[1]!, maxIdLength),
      ...(match[2] !== undefined ? { from: token(match[2], maxAddressLength) } : {}),
      ...(nextInSeconds !== undefined ? { nextInSeconds } : {}),
    };
  }
  match = allDone.exec(body);
  if (match) {
    return {
      kind: 'done',
      ...when,
      id: token(match[1]!, maxIdLength),
      ...(match[2] !== undefined ? { from: token(match[2], maxAddressLength) } : {}),
    };
  }
  match = authFailed.exec(body);
  if (match) return { kind: 'auth-failed', ...when, ip: token(match[1]!, 64), user: plainText(match[2]!, maxAddressLength) };
  return undefined;
}

function parseStamped(line: string, options: MailLogOptions): { event?: MailLogEvent; stamped: boolean } {
  const stamped = unstamp(line.slice(0, maxLineLength).replace(/\r$/, ''), options);
  if (!stamped) return { stamped: true };
  const event = parseBody(stamped.body, stamped.at);
  return { ...(event ? { event } : {}), stamped: stamped.stamped };
}

/** The event of one line of chasquid's mail log, or undefined for a line that is not one we know. Never throws. */
export function parseMailLogLine(line: string, options: MailLogOptions = {}): MailLogEvent | undefined {
  try {
    return parseStamped(line, options).event;
  } catch {
    return undefined;
  }
}

/**
 * The events of the complete lines in `text` (a piece of the log read after the previous one), and `rest`: the
 * trailing partial line, to put in front of the next piece. The lines of a multi-line reply that follow a `failed`
 * line are joined into its reply (see the top of this file for the stamped lines that are still the reply); if a piece
 * ends between them (chasquid writes an entry at once, so this is rare), the lines in the next piece are ignored.
 */
export function parseMailLogChunk(text: string, options: MailLogOptions = {}): { events: MailLogEvent[]; rest: string } {
  const end = text.lastIndexOf('\n');
  const rest = text.slice(end + 1);
  const lines = (end === -1 ? [] : text.slice(0, end).split('\n')).map((line) => {
    try {
      return { line, ...parseStamped(line, options) };
    } catch {
      return { line, stamped: true };
    }
  });
  // The earliest time stamped on any line after each line: a line that claims a later one came before it in a reply.
  const earliestAfter: number[] = new Array<number>(lines.length).fill(Infinity);
  for (let index = lines.length - 2; index >= 0; index -= 1) {
    const next = lines[index + 1]?.event?.at?.getTime() ?? Infinity;
    earliestAfter[index] = Math.min(earliestAfter[index + 1] ?? Infinity, next);
  }
  const events: MailLogEvent[] = [];
  const continuation: string[] = [];
  let open: Extract<MailLogEvent, { kind: 'failed' }> | undefined;
  const close = () => {
    if (open && continuation.length > 0) open.reply = plainText(`${open.reply} ${continuation.join(' ')}`, maxReplyLength);
    continuation.length = 0;
    open = undefined;
  };
  lines.forEach((parsed, index) => {
    const at = parsed.event?.at?.getTime();
    const openedAt = open?.at?.getTime();
    const outOfOrder = at !== undefined && ((openedAt !== undefined && at < openedAt) || at > (earliestAfter[index] ?? Infinity));
    if (open && ((!parsed.event && !parsed.stamped) || (parsed.event && outOfOrder))) {
      // Enough to fill the reply: a hostile server may send thousands of lines.
      if (continuation.join(' ').length < maxReplyLength) continuation.push(parsed.line.slice(0, maxReplyLength));
      return;
    }
    close();
    if (!parsed.event) return;
    events.push(parsed.event);
    if (parsed.event.kind === 'failed') open = parsed.event;
  });
  close();
  return { events, rest };
}
