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
