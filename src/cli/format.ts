// Plain-text layout for terminal output: aligned label/value rows.

export function rows(entries: Array<[string, string]>): string {
  const width = Math.max(0, ...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
