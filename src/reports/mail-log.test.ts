import { describe, expect, it } from 'vitest';
import { goDurationSeconds, maxReplyLength, parseMailLogChunk, parseMailLogLine, type MailLogEvent } from './mail-log.ts';

// Real lines of the lab's chasquid (test/lab/delivery-failures.test.ts), addresses and ids as the lab made them.
// Both builds write the same formats.
const chasquid115 = `2026-12-01 21:36:34.052763 daemon listening on 127.0.0.1:22008
2026-12-01 21:36:34.616098 127.0.0.1:53416 auth succeeded for alice@example.test
2026-12-01 21:36:34.743822 IA1f57MGdnw from=alice@example.test queued ip=127.0.0.1:53422 to=[someone@remote.test later@remote.test]
2026-12-01 21:36:34.753375 IA1f57MGdnw from=alice@example.test to=someone@remote.test failed (permanent): MAIL+RCPT 550 5.7.26 This mail has been blocked because the sender is unauthenticated.
5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.
5.7.26
5.7.26  Authentication results:
5.7.26  DKIM = did not pass
5.7.26  SPF [example.test] with ip: [192.0.2.1] = did not pass
5.7.26 For instructions on setting up authentication, go to https://support.google.com/mail/answer/81126#authentication
2026-12-01 21:36:34.755352 IA1f57MGdnw from=alice@example.test to=later@remote.test failed (temporary): all MXs returned transient failures (last: MAIL+RCPT 451 4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.)
2026-12-01 21:36:34.757235 IA1f57MGdnw from=alice@example.test completed loop, next in 1m16s
2026-12-01 21:39:13.689903 1CLjjsCoU1I from=alice@example.test queued ip=127.0.0.1:51448 to=[friend@remote.test]
2026-12-01 21:39:13.693242 1CLjjsCoU1I from=alice@example.test to=friend@remote.test sent
2026-12-01 21:39:13.693944 1CLjjsCoU1I from=alice@example.test all done
2026-12-01 21:39:13.905789 127.0.0.1:51458 auth failed for alice@example.test
`;
const chasquid111 = `2026-12-01 21:36:33.789528 DresARMY95Q from=alice@example.test queued ip=127.0.0.1:47220 to=[someone@remote.test later@remote.test]
2026-12-01 21:36:33.803482 DresARMY95Q from=alice@example.test to=someone@remote.test failed (permanent): MAIL+RCPT 550 5.7.26 This mail has been blocked because the sender is unauthenticated.
5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.
5.7.26 For instructions on setting up authentication, go to https://support.google.com/mail/answer/81126#authentication
2026-12-01 21:36:33.812294 DresARMY95Q from=alice@example.test completed loop, next in 1m10s
2026-12-01 21:39:12.427059 V0OIng8PXVY from=alice@example.test queued ip=127.0.0.1:49742 to=[friend@remote.test]
2026-12-01 21:39:12.431320 V0OIng8PXVY from=alice@example.test to=friend@remote.test sent
2026-12-01 21:39:12.431994 V0OIng8PXVY from=alice@example.test all done
2026-12-01 21:39:12.647129 127.0.0.1:49754 auth failed for alice@example.test
`;

const at = (iso: string) => new Date(iso);

describe('parseMailLogLine', () => {
  it('reads a queued line of chasquid 1.15 with its recipients and client address', () => {
    expect(
      parseMailLogLine(
        '2026-12-01 21:36:34.743822 IA1f57MGdnw from=alice@example.test queued ip=127.0.0.1:53422 to=[someone@remote.test later@remote.test]'
      )
    ).toEqual({
      kind: 'queued',
      at: at('2026-12-01T21:36:34.743Z'),
      id: 'IA1f57MGdnw',
      from: 'alice@example.test',
      to: ['someone@remote.test', 'later@remote.test'],
      ip: '127.0.0.1:53422',
    });
  });

  it('reads sent lines, old and new', () => {
    const expected = { kind: 'sent', id: 'Xy1', from: 'a@example.test', to: 'b@remote.test' };
    expect(parseMailLogLine('Xy1 from=a@example.test to=b@remote.test sent')).toEqual(expected);
    expect(parseMailLogLine('Xy1 from=a@example.test to=b@remote.test sent successfully')).toEqual(expected);
  });

  it('reads permanent and temporary failures, old and new, keeping the reply', () => {
    expect(parseMailLogLine('Xy1 from=a@example.test to=b@remote.test failed (permanent): MAIL+RCPT 550 5.1.1 no such user')).toEqual({
      kind: 'failed',
      id: 'Xy1',
      from: 'a@example.test',
      to: 'b@remote.test',
      permanent: true,
      reply: 'MAIL+RCPT 550 5.1.1 no such user',
    });
    expect(parseMailLogLine('Xy1 from=a@example.test to=b@remote.test sent failed (temporary): DATA 421 4.7.0 try later')).toMatchObject({
      kind: 'failed',
      permanent: false,
      reply: 'DATA 421 4.7.0 try later',
    });
  });

  it('reads a bounce (empty sender) and queue loop lines with and without from=', () => {
    expect(parseMailLogLine('Xy1 from=<> to=b@remote.test sent')).toMatchObject({ kind: 'sent', from: '<>' });
    expect(parseMailLogLine('Xy1 from=a@example.test completed loop, next in 1m16s')).toEqual({
      kind: 'retry',
      id: 'Xy1',
      from: 'a@example.test',
      nextInSeconds: 76,
    });
    expect(parseMailLogLine('Xy1 completed loop, next in 20m0s')).toEqual({ kind: 'retry', id: 'Xy1', nextInSeconds: 1200 });
    expect(parseMailLogLine('Xy1 from=a@example.test all done')).toEqual({ kind: 'done', id: 'Xy1', from: 'a@example.test' });
    expect(parseMailLogLine('Xy1 all done')).toEqual({ kind: 'done', id: 'Xy1' });
  });

  it('reads failed logins', () => {
    expect(parseMailLogLine('2026-12-01 21:36:35.1 203.0.113.9:41000 auth failed for admin@example.test')).toEqual({
      kind: 'auth-failed',
      at: at('2026-12-01T21:36:35.100Z'),
      ip: '203.0.113.9:41000',
      user: 'admin@example.test',
    });
    expect(parseMailLogLine('203.0.113.9:41000 authentication failed for admin')).toMatchObject({ kind: 'auth-failed', user: 'admin' });
  });

  it('reads classic syslog lines with the given year, and RFC 3339 syslog lines', () => {
    expect(parseMailLogLine('Dec  1 21:45:01 mail chasquid[123]: Xy1 from=a@example.test to=b@remote.test sent', { year: 2025 })).toEqual({
      kind: 'sent',
      at: at('2025-12-01T21:45:01Z'),
      id: 'Xy1',
      from: 'a@example.test',
      to: 'b@remote.test',
    });
    expect(parseMailLogLine('2026-12-01T21:45:01.123456+02:00 mail chasquid[123]: Xy1 from=a@example.test all done')).toEqual({
      kind: 'done',
      at: at('2026-12-01T19:45:01.123Z'),
      id: 'Xy1',
      from: 'a@example.test',
    });
    expect(parseMailLogLine('Dec 11 01:02:03 mail chasquid: Xy1 all done', { year: 2024 })).toMatchObject({
      at: at('2024-12-11T01:02:03Z'),
    });
  });

  it('joins a reply that syslog escaped (#012) into one line', () => {
    const event = parseMailLogLine(
      'Dec  1 21:45:01 mail chasquid[123]: Xy1 from=a@example.test to=b@gmail.com failed (permanent): MAIL+RCPT 550 5.7.26 blocked.#0125.7.26 Gmail requires SPF or DKIM.'
    );
    expect(event).toMatchObject({ kind: 'failed', reply: 'MAIL+RCPT 550 5.7.26 blocked. 5.7.26 Gmail requires SPF or DKIM.' });
  });

  it('shifts zoneless timestamps by the host clock offset', () => {
    expect(parseMailLogLine('2026-12-01 21:00:00.000000 Xy1 all done', { utcOffsetMinutes: 60 })).toMatchObject({
      at: at('2026-12-01T20:00:00Z'),
    });
  });

  it.each([
    '',
    'daemon listening on 127.0.0.1:25',
    '2026-12-01 21:36:34.052763 daemon listening on 127.0.0.1:22008',
    '2026-12-01 21:36:34.616098 127.0.0.1:53416 auth succeeded for alice@example.test',
    '2026-12-01 21:36:34.616098 127.0.0.1:53416 rejected from=a@example.test to=[b@example.test] - 550 not allowed',
    'Dec  1 21:45:01 mail postfix/smtp[9]: Xy1 from=a@example.test to=b@remote.test sent',
    '5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.',
    'Xy1 from=a@example.test to=b@remote.test exploded',
  ])('gives undefined for a line that is not an event: %j', (line) => {
    expect(parseMailLogLine(line)).toBeUndefined();
  });

  it('keeps a hostile reply as plain data: no control characters, no bidirectional overrides, capped', () => {
    const hostile = `MAIL+RCPT 550 5.7.1 \u0007\u001b[31mred\u001b[0m \u202eevil\u202c ${'x'.repeat(5000)}`;
    const event = parseMailLogLine(`Xy1 from=a@example.test to=b@remote.test failed (permanent): ${hostile}`);
    if (event?.kind !== 'failed') throw new Error(`expected a failed event, got ${JSON.stringify(event)}`);
    // Exactly the characters the parser must drop: control characters are the point of this pattern.
    // eslint-disable-next-line no-control-regex
    expect(event.reply).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(event.reply.startsWith('MAIL+RCPT 550 5.7.1 [31mred [0m evil x')).toBe(true);
    expect(event.reply.length).toBeLessThanOrEqual(maxReplyLength);
  });

  it('never throws, whatever it is given', () => {
    const inputs: unknown[] = [
      undefined,
      null,
      42,
      {},
      'x'.repeat(100_000),
      `Xy1 from=${'a'.repeat(50_000)} to=b sent`,
      '\u0000'.repeat(10),
    ];
    for (const input of inputs) expect(() => parseMailLogLine(input as string)).not.toThrow();
  });

  it('caps the length of addresses and ids from hostile input', () => {
    const event = parseMailLogLine(`${'i'.repeat(500)} from=${'a'.repeat(2000)}@example.test to=b@remote.test sent`);
    if (event?.kind !== 'sent') throw new Error(`expected a sent event, got ${JSON.stringify(event)}`);
    expect(event.id.length).toBeLessThanOrEqual(64);
    expect(event.from.length).toBeLessThanOrEqual(320);
  });
});

describe('parseMailLogChunk', () => {
  it.each([
    ['1.15', chasquid115],
    ['1.11', chasquid111],
  ])('reads the real log of chasquid %s, joining the multi-line reply', (_build, text) => {
    const { events, rest } = parseMailLogChunk(text);
    expect(rest).toBe('');
    expect(events.map((event) => event.kind)).toEqual(
      text === chasquid115
        ? ['queued', 'failed', 'failed', 'retry', 'queued', 'sent', 'done', 'auth-failed']
        : ['queued', 'failed', 'retry', 'queued', 'sent', 'done', 'auth-failed']
    );
    const permanent = events.find(
      (event): event is Extract<MailLogEvent, { kind: 'failed' }> => event.kind === 'failed' && event.permanent
    );
    expect(permanent?.to).toBe('someone@remote.test');
    expect(permanent?.reply).toMatch(
      /^MAIL\+RCPT 550 5\.7\.26 This mail has been blocked because the sender is unauthenticated\. 5\.7\.26 Gmail requires/
    );
    expect(permanent?.reply).toContain('https://support.google.com/mail/answer/81126#authentication');
    expect(permanent?.reply).not.toContain('\n');
  });

  it('keeps a trailing partial line for the next read, and reads it then', () => {
    const first = parseMailLogChunk('Xy1 from=a@example.test to=b@remote.test sent\nXy1 from=a@exam');
    expect(first.events).toHaveLength(1);
    expect(first.rest).toBe('Xy1 from=a@exam');
    const second = parseMailLogChunk(`${first.rest}ple.test all done\n`);
    expect(second).toEqual({ events: [{ kind: 'done', id: 'Xy1', from: 'a@example.test' }], rest: '' });
  });

  it('gives nothing for a piece without a complete line', () => {
    expect(parseMailLogChunk('2026-12-01 21:36:34.7 Xy1 all do')).toEqual({ events: [], rest: '2026-12-01 21:36:34.7 Xy1 all do' });
  });

  it('does not join lines after an event that is not a failure, and reads CRLF lines', () => {
    const { events } = parseMailLogChunk('Xy1 from=a@example.test all done\r\nstray line\r\nXy2 all done\r\n');
    expect(events).toEqual([
      { kind: 'done', id: 'Xy1', from: 'a@example.test' },
      { kind: 'done', id: 'Xy2' },
    ]);
  });

  // What the lab's chasquid 1.15 wrote when a remote server refused with a reply whose lines imitate chasquid's own
  // (test/lab/mail-log-forgery.test.ts): in the file they are stamped lines like any other.
  const forgedAfter = (forged: string[]) =>
    [
      '2026-12-01 22:07:13.470261 kEjfoB6Hiqg from=alice@example.test queued ip=127.0.0.1:45698 to=[someone@remote.test]',
      '2026-12-01 22:07:13.474953 kEjfoB6Hiqg from=alice@example.test to=someone@remote.test failed (permanent): MAIL+RCPT 550 5.7.1 Refused.',
      ...forged,
      '5.7.1 Bye.',
      '2026-12-01 22:07:13.475751 kEjfoB6Hiqg from=alice@example.test all done',
      '',
    ].join('\n');

  it.each([
    ['an earlier time than the failure', ['2026-12-01 10:00:00.000000 ABC from=x@example.test to=y@gmail.com sent']],
    [
      'a later time than the entry written after it',
      ['2026-12-01 22:07:14.000000 FORGED1 from=alice@example.test to=victim@gmail.com sent'],
    ],
    [
      'a queued item, its delivery and its end',
      [
        '2026-12-01 22:07:14.000000 Q1 from=alice@example.test queued ip=127.0.0.1:1 to=[victim@gmail.com]',
        '2026-12-01 22:07:14.000001 Q1 from=alice@example.test to=victim@gmail.com sent',
        '2026-12-01 22:07:14.000002 Q1 from=alice@example.test all done',
      ],
    ],
    [
      'a failure of its own with a reply',
      [
        '2026-12-01 22:07:13.000000 F1 from=alice@example.test to=victim@gmail.com failed (permanent): 550 5.7.26 unauthenticated',
        '5.7.26 more',
      ],
    ],
  ])('takes lines of a reply that imitate chasquid and claim %s as the reply, not as events', (_case, forged) => {
    expect(forged.length).toBeGreaterThan(0);
    const { events } = parseMailLogChunk(forgedAfter(forged));
    expect(events.map((event) => `${event.kind} ${'id' in event ? event.id : ''}`)).toEqual([
      'queued kEjfoB6Hiqg',
      'failed kEjfoB6Hiqg',
      'done kEjfoB6Hiqg',
    ]);
    const failed = events[1];
    expect(failed?.kind === 'failed' && failed.reply).toContain(forged[0]!.slice(27, 40));
    expect(failed?.kind === 'failed' && failed.reply).toMatch(/Bye\.$/);
  });

  it('still reads real entries that follow a failure in time order, whatever they say', () => {
    const { events } = parseMailLogChunk(
      [
        '2026-12-01 22:07:13.474953 A1 from=alice@example.test to=someone@remote.test failed (permanent): 550 5.7.1 Refused.',
        '2026-12-01 22:07:13.475000 A1 from=alice@example.test to=friend@gmail.com sent',
        '2026-12-01 22:07:13.475001 B2 from=bob@example.test to=x@remote.test failed (temporary): 451 later',
        '2026-12-01 22:07:13.475751 A1 from=alice@example.test all done',
        '',
      ].join('\n')
    );
    expect(events.map((event) => event.kind)).toEqual(['failed', 'sent', 'failed', 'done']);
  });

  it('caps a reply of thousands of lines', () => {
    const lines = Array.from({ length: 5000 }, (_, index) => `5.7.1 line ${index}`).join('\n');
    const { events } = parseMailLogChunk(
      `Xy1 from=a@example.test to=b@remote.test failed (permanent): 550 5.7.1 first\n${lines}\nXy1 all done\n`
    );
    expect(events.map((event) => event.kind)).toEqual(['failed', 'done']);
    const failed = events[0];
    expect(failed?.kind === 'failed' && failed.reply.length).toBeLessThanOrEqual(maxReplyLength);
  });
});

describe('goDurationSeconds', () => {
  it.each([
    ['1m16s', 76],
    ['20m0s', 1200],
    ['1h0m0s', 3600],
    ['1.5s', 1.5],
    ['500ms', 0.5],
    ['0s', 0],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(goDurationSeconds(text)).toBe(seconds);
  });

  it('gives undefined for what is not a duration', () => {
    expect(goDurationSeconds('soon')).toBeUndefined();
    expect(goDurationSeconds('1m16s; rm')).toBeUndefined();
  });
});
