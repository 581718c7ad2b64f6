// A fingerprint of a directory tree — every path, type, owner, group, mode and content — to prove "nothing changed".

import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export function treeFingerprint(root: string): string[] {
  const entries: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = lstatSync(full);
      const relative = path.relative(root, full);
      const meta = `${relative} ${stat.mode.toString(8)} ${stat.uid}:${stat.gid}`;
      if (stat.isDirectory()) {
        entries.push(`${meta} dir`);
        walk(full);
      } else if (stat.isSymbolicLink()) {
        entries.push(`${meta} -> ${readlinkSync(full)}`);
      } else {
        entries.push(`${meta} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
      }
    }
  };
  walk(root);
  return entries;
}
