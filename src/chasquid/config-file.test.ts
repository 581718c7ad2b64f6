import { describe, expect, it } from 'vitest';
import { chasquidConfProblems, parseChasquidConf } from './config-file.ts';

describe('whether chasquid will start with a chasquid.conf', () => {
  // Each verdict is what chasquid 1.11 and 1.15 said about the same file (`chasquid -config_dir` with only it).
  it.each([
    ['hostname: "a.b"\n', []],
    ['# only a comment\n\n', []],
    ['hostname: \'a.b\'; data_dir: "/var/lib/chasquid",\n', []],
    ['haproxy_incoming: 1\ndovecot_auth: false\n', []],
    ['smtp_address: [":1", ":2"]\nsmtp_address: ":3"\n', []],
    ['hostname: "a" "b"\n', []],
    ['max_data_size_mb: 0x10\n', []],
    ['hostname "a.b"\n', ['line 1: "hostname" must be followed by ":" and a value']],
    ['hostname: "a.b"\nhostname: "c"\n', ['line 2: hostname is set twice (it takes one value)']],
    ['\ngarbage: 1\n', ['line 2: "garbage" is not a chasquid setting']],
    ['max_data_size_mb: "5"\n', ['line 1: max_data_size_mb expects a whole number, not "5"']],
    ['hostname: a\n', ['line 1: hostname expects a quoted string, not a']],
    ['hostname: "open\n', ['line 1: a quoted string is not closed on its line']],
    ['\u0000\u0001binary garbage', ['line 1: unexpected character "\\u0000"']],
  ] as Array<[string, string[]]>)('%j → %j', (text, problems) => {
    expect(chasquidConfProblems(text)).toEqual(problems);
  });

  it('does not judge unknown names for a chasquid newer than the known ones, but still the syntax', () => {
    expect(chasquidConfProblems('max_queue_items: 200\n', { knowsAllFields: false })).toEqual([]);
    expect(chasquidConfProblems('max_queue_items 200\n', { knowsAllFields: false })).toEqual([
      'line 1: "max_queue_items" must be followed by ":" and a value',
    ]);
  });

  it('reads the settings mailops uses from a file that parses', () => {
    const text = 'hostname: "mail.example.com"  # ours\nsmtp_address: "127.0.0.1:2525"\n';
    expect(chasquidConfProblems(text)).toEqual([]);
    expect(parseChasquidConf(text)).toMatchObject({ hostname: 'mail.example.com', smtpAddresses: ['127.0.0.1:2525'] });
  });
});
