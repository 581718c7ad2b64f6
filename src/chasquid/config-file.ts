// chasquid.conf, read only: the few settings mailops needs (hostname, listening addresses, data and monitoring).
//
// The file is a protocol buffer in text format with scalar fields only: `name: "value"`, `name: 123` or
// `name: true`, `#` comments, repeated fields for the listening addresses. Unknown fields are ignored.

export interface ChasquidSettings {
  hostname: string | undefined;
  smtpAddresses: string[];
  submissionAddresses: string[];
  submissionOverTlsAddresses: string[];
  monitoringAddress: string | undefined;
  dataDir: string;
  /** Characters removed from local parts (default "."). */
  dropCharacters: string;
  /** Characters that start an address suffix (default "+"). */
  suffixSeparators: string;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2) {
    return trimmed.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return trimmed;
}

export function parseChasquidConf(text: string): ChasquidSettings {
  const fields = new Map<string, string[]>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-z_]+)\s*:\s*(.*?)\s*(?:#.*)?$/.exec(line);
    if (!match) continue;
    const [, name, value] = match;
    if (name === undefined || value === undefined) continue;
    fields.set(name, [...(fields.get(name) ?? []), unquote(value)]);
  }
  const one = (name: string) => fields.get(name)?.at(-1);
  return {
    hostname: one('hostname'),
    // chasquid's defaults are "systemd": the sockets come from socket activation on 25, 587 and 465.
    smtpAddresses: fields.get('smtp_address') ?? ['systemd'],
    submissionAddresses: fields.get('submission_address') ?? ['systemd'],
    submissionOverTlsAddresses: fields.get('submission_over_tls_address') ?? ['systemd'],
    monitoringAddress: one('monitoring_address'),
    dataDir: one('data_dir') ?? '/var/lib/chasquid',
    dropCharacters: one('drop_characters') ?? '.',
    suffixSeparators: one('suffix_separators') ?? '+',
  };
}

// Whether chasquid will start with a chasquid.conf. chasquid reads it with protobuf's text-format parser into its
// Config message and exits when that fails, so "parses" means what that parser accepts: a sequence of
// `name: value` fields (separated by whitespace, optionally by `,` or `;`; `#` starts a comment), where every name is
// a field of Config, every value has the field's type — a quoted string ("…" or '…', C escapes, adjacent strings
// joined), an integer, or a boolean (true/false, True/False, t/f, 1/0) — a repeated field may also take `[v, …]`,
// and a field that is not repeated appears at most once. Config has the same 16 fields in chasquid 1.11 and 1.15
// (below); on a newer chasquid a field name we do not know may be new, so it is not counted as a problem there.

type FieldType = 'string' | 'int' | 'bool';

/** chasquid's Config message (internal/config/config.proto), identical in 1.11 and 1.15. */
export const chasquidConfigFields: ReadonlyMap<string, { type: FieldType; repeated: boolean }> = new Map([
  ['hostname', { type: 'string', repeated: false }],
  ['max_data_size_mb', { type: 'int', repeated: false }],
  ['smtp_address', { type: 'string', repeated: true }],
  ['submission_address', { type: 'string', repeated: true }],
  ['submission_over_tls_address', { type: 'string', repeated: true }],
  ['monitoring_address', { type: 'string', repeated: false }],
  ['mail_delivery_agent_bin', { type: 'string', repeated: false }],
  ['mail_delivery_agent_args', { type: 'string', repeated: true }],
  ['data_dir', { type: 'string', repeated: false }],
  ['suffix_separators', { type: 'string', repeated: false }],
  ['drop_characters', { type: 'string', repeated: false }],
  ['mail_log_path', { type: 'string', repeated: false }],
  ['dovecot_auth', { type: 'bool', repeated: false }],
  ['dovecot_userdb_path', { type: 'string', repeated: false }],
  ['dovecot_client_path', { type: 'string', repeated: false }],
  ['haproxy_incoming', { type: 'bool', repeated: false }],
] as const);

interface Token {
  kind: 'name' | 'string' | 'number' | 'punct';
  text: string;
  line: number;
}

function tokenize(text: string): Token[] | { line: number; problem: string } {
  const tokens: Token[] = [];
  let line = 1;
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (char === '\n') {
      line += 1;
      index += 1;
      continue;
    }
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    if (char === '#') {
      while (index < text.length && text[index] !== '\n') index += 1;
      continue;
    }
    if (char === '"' || char === "'") {
      let end = index + 1;
      while (end < text.length && text[end] !== char && text[end] !== '\n') end += text[end] === '\\' ? 2 : 1;
      if (text[end] !== char) return { line, problem: 'a quoted string is not closed on its line' };
      tokens.push({ kind: 'string', text: text.slice(index, end + 1), line });
      index = end + 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(index, index + 200));
    if (word) {
      tokens.push({ kind: 'name', text: word[0], line });
      index += word[0].length;
      continue;
    }
    const number = /^[-+]?(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?)/.exec(text.slice(index, index + 100));
    if (number) {
      tokens.push({ kind: 'number', text: number[0], line });
      index += number[0].length;
      continue;
    }
    if (':,;[]{}<>'.includes(char)) {
      tokens.push({ kind: 'punct', text: char, line });
      index += 1;
      continue;
    }
    return { line, problem: `unexpected character ${JSON.stringify(char)}` };
  }
  return tokens;
}

function valueProblem(token: Token | undefined, type: FieldType): string | undefined {
  if (token === undefined) return 'the value is missing at the end of the file';
  if (type === 'string') return token.kind === 'string' ? undefined : `expects a quoted string, not ${token.text}`;
  if (type === 'int')
    return token.kind === 'number' && /^[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(token.text)
      ? undefined
      : `expects a whole number, not ${token.text}`;
  return /^(true|false|True|False|t|f|1|0)$/.test(token.text) && token.kind !== 'string'
    ? undefined
    : `expects true or false, not ${token.text}`;
}

/**
 * Why chasquid would refuse this chasquid.conf at start-up (empty: it parses), each as `line N: …`. `knowsAllFields`
 * is false for a chasquid newer than the versions whose Config is known, where an unknown name is not judged.
 */
export function chasquidConfProblems(text: string, options: { knowsAllFields?: boolean } = {}): string[] {
  const knowsAllFields = options.knowsAllFields ?? true;
  const tokens = tokenize(text);
  if (!Array.isArray(tokens)) return [`line ${tokens.line}: ${tokens.problem}`];
  const problems: string[] = [];
  const seen = new Set<string>();
  let index = 0;
  const next = () => tokens[index++];
  while (index < tokens.length) {
    const name = next() as Token;
    if (name.kind !== 'name') return [...problems, `line ${name.line}: expected a setting name, found ${name.text}`];
    const field = chasquidConfigFields.get(name.text);
    if (field === undefined && knowsAllFields) return [...problems, `line ${name.line}: "${name.text}" is not a chasquid setting`];
    const colon = next();
    if (colon?.text !== ':') return [...problems, `line ${name.line}: "${name.text}" must be followed by ":" and a value`];
    const values: Token[] = [];
    if (tokens[index]?.text === '[') {
      index += 1;
      while (tokens[index] !== undefined && tokens[index]?.text !== ']') {
        values.push(next() as Token);
        if (tokens[index]?.text === ',') index += 1;
      }
      if (next()?.text !== ']') return [...problems, `line ${name.line}: the list of ${name.text} is not closed with ]`];
      if (field && !field.repeated) problems.push(`line ${name.line}: ${name.text} takes one value, not a list`);
    } else {
      const value = next();
      if (value === undefined) return [...problems, `line ${name.line}: ${name.text} has no value`];
      values.push(value);
      // Adjacent string literals are one string.
      while (value.kind === 'string' && tokens[index]?.kind === 'string') index += 1;
    }
    if (field) {
      for (const value of values) {
        const problem = valueProblem(value, field.type);
        if (problem !== undefined) problems.push(`line ${value.line}: ${name.text} ${problem}`);
      }
      if (!field.repeated && seen.has(name.text)) problems.push(`line ${name.line}: ${name.text} is set twice (it takes one value)`);
    } else if (values.some((value) => value.kind === 'punct')) {
      problems.push(`line ${name.line}: ${name.text} has no valid value`);
    }
    seen.add(name.text);
    if (tokens[index]?.text === ',' || tokens[index]?.text === ';') index += 1;
  }
  return problems;
}
