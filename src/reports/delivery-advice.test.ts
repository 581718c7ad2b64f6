import { describe, expect, it } from 'vitest';
import { likelyFix, mailboxProvider } from './delivery-advice.ts';

describe('mailboxProvider', () => {
  const known: Array<[string, string]> = [
    ['gmail.com', 'Google'],
    ['googlemail.com', 'Google'],
    ['outlook.com', 'Microsoft'],
    ['outlook.de', 'Microsoft'],
    ['hotmail.co.uk', 'Microsoft'],
    ['live.fr', 'Microsoft'],
    ['msn.com', 'Microsoft'],
    ['yahoo.com', 'Yahoo'],
    ['yahoo.co.jp', 'Yahoo'],
    ['ymail.com', 'Yahoo'],
    ['aol.com', 'Yahoo'],
    ['icloud.com', 'Apple'],
    ['me.com', 'Apple'],
    ['mac.com', 'Apple'],
    ['gmx.de', 'GMX'],
    ['web.de', 'WEB.DE'],
    ['proton.me', 'Proton'],
    ['protonmail.com', 'Proton'],
    ['zoho.com', 'Zoho'],
    ['yandex.ru', 'Yandex'],
    ['mail.ru', 'Mail.ru'],
    ['comcast.net', 'Comcast'],
  ];
  it.each(known)('knows %s as %s', (domain, provider) => {
    expect(known.length).toBeGreaterThan(20);
    expect(mailboxProvider(domain)).toBe(provider);
  });

  it('takes an address or a domain in any case, with a trailing dot', () => {
    expect(mailboxProvider('Someone@GMail.COM')).toBe('Google');
    expect(mailboxProvider('outlook.com.')).toBe('Microsoft');
  });

  it.each(['example.com', 'gmail.example', 'outlook.example', 'live.net', 'mail.gmail.com', 'notgmail.com', 'yahoo', '', '@'])(
    'does not guess for %j (an allow-list, not a pattern)',
    (domain) => {
      expect(mailboxProvider(domain)).toBeUndefined();
    }
  );
});

describe('likelyFix', () => {
  it('reads Gmail 5.7.26 (unauthenticated sender) as SPF/DKIM alignment, with mailops commands', () => {
    const advice = likelyFix(
      'MAIL+RCPT 550 5.7.26 This mail has been blocked because the sender is unauthenticated. 5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.',
      'example.org'
    );
    expect(advice.code).toBe('5.7.26');
    expect(advice.cause).toMatch(/SPF|DKIM/);
    expect(advice.fix).toContain('mailops check example.org');
    expect(advice.fix).toContain('mailops dkim-rotate example.org');
  });

  it('reads Gmail 5.7.26 about a DMARC policy as DMARC', () => {
    const advice = likelyFix("550 5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy.");
    expect(advice.cause).toMatch(/DMARC/);
    expect(advice.fix).toMatch(/DMARC record/);
  });

  const cases: Array<[string, string, RegExp]> = [
    ['550 5.7.25 The IP address sending this message does not have a PTR record setup', '5.7.25', /VPS provider/],
    ['421 4.7.23 The sending IP does not have a PTR record', '4.7.23', /reverse DNS/],
    ['550 5.7.27 SPF authentication did not pass', '5.7.27', /SPF record must name/],
    ['550 5.7.30 DKIM authentication did not pass', '5.7.30', /dkim-rotate/],
    [
      '421 4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.',
      '4.7.28',
      /retries on its own/,
    ],
    ['421 4.7.0 Try again later, closing connection. unusual rate of unsolicited mail', '4.7.0', /retries on its own/],
    [
      '550 5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.',
      '5.7.1',
      /reputation/,
    ],
    ['550 5.7.515 Access denied, sending domain example.org does not meet the required authentication level.', '5.7.515', /mailops check/],
    [
      '550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/',
      '5.7.606',
      /sender\.office\.com/,
    ],
    ['550 5.7.649 Access denied, banned sending IP [192.0.2.1].', '5.7.649', /delisting/],
    ["550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. (S3150)", '5.7.1', /delisting/],
    ['554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', '5.7.1', /blocklist/],
    ['550 5.1.1 The email account that you tried to reach does not exist.', '5.1.1', /Nothing to fix on this server/],
    ['550 5.5.0 Requested action not taken: mailbox unavailable (5.1.1)', '5.5.0', /Read the reply/],
    ["552 5.2.2 The recipient's inbox is out of storage space.", '5.2.2', /mailbox is full/],
    ['552 5.3.4 Message size exceeds fixed limit', '5.3.4', /link/],
    ['421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints', '4.7.0', /reputation/],
    ['553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed.', '5.7.2', /reputation/],
    ["553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list", '5.7.1', /blocklist/],
  ];
  it.each(cases)('reads %j', (reply, code, fix) => {
    expect(cases.length).toBeGreaterThan(15);
    const advice = likelyFix(reply);
    expect(advice.code).toBe(code);
    expect(advice.fix).toMatch(fix);
  });

  it("reads chasquid's own errors: no mail server, cannot connect", () => {
    expect(likelyFix('Could not find mail server: lookup nowhere.example on 127.0.0.53:53: no such host').fix).toMatch(/misspelt/);
    expect(likelyFix('all MXs returned transient failures (last: Could not dial: dial tcp 192.0.2.1:25: i/o timeout)').fix).toMatch(
      /port 25/
    );
  });

  it('falls back on the class of the code, and on the basic code without an enhanced one', () => {
    expect(likelyFix('450 4.2.0 Mailbox busy').fix).toMatch(/temporary/);
    expect(likelyFix('550 5.1.8 Bad sender')).toMatchObject({ code: '5.1.8', fix: expect.stringMatching(/address does not exist/) });
    expect(likelyFix('550 Requested action not taken')).toMatchObject({ code: '550' });
    expect(likelyFix('something odd')).toEqual({ cause: 'The receiver refused the message.', fix: expect.any(String) });
  });

  it('never echoes the reply into the advice', () => {
    const reply = '550 5.7.1 <script>alert(1)</script> @everyone visit http://evil.example';
    const advice = likelyFix(reply);
    expect(`${advice.cause} ${advice.fix}`).not.toMatch(/script|everyone|evil/);
  });
});
