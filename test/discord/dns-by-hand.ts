// The lab's Knot, edited the way an operator edits a DNS panel: a TXT record given as the zone-file line mailops
// shows (`name. ttl IN TXT "…" "…"`) is published or removed with knotc, and a name's TXT records read back.

import type { Lab } from '../lab/lab.ts';

function parts(line: string): { name: string; ttl: string; strings: string[] } {
  const [name, ttl, , , ...strings] = line.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  if (name === undefined || ttl === undefined || strings.length === 0) throw new Error(`not a TXT zone-file line: ${line}`);
  return { name, ttl, strings };
}

async function transaction(lab: Lab, zone: string, action: 'zone-set' | 'zone-unset', line: string): Promise<void> {
  const { name, ttl, strings } = parts(line);
  await lab.knotc('zone-begin', zone);
  await (action === 'zone-set'
    ? lab.knotc('zone-set', zone, name, ttl, 'TXT', ...strings)
    : lab.knotc('zone-unset', zone, name, 'TXT', ...strings));
  await lab.knotc('zone-commit', zone);
}

export function publishByHand(lab: Lab, zone: string, line: string): Promise<void> {
  return transaction(lab, zone, 'zone-set', line);
}

export function removeByHand(lab: Lab, zone: string, line: string): Promise<void> {
  return transaction(lab, zone, 'zone-unset', line);
}

/** The TXT value Knot holds at `name` (strings joined), or '' when it holds none. */
export async function knotTxt(lab: Lab, zone: string, name: string): Promise<string> {
  const text = await lab.knotc('zone-read', zone, `${name}.`, 'TXT').catch(() => '');
  return (text.match(/"(?:[^"\\]|\\.)*"/g) ?? []).map((part) => part.slice(1, -1)).join('');
}
