// The probe senders' passwords (see src/probe). A password is a secret: callers register it with the redactor.

import type { DatabaseSync } from 'node:sqlite';

export function probePassword(database: DatabaseSync, address: string): string | undefined {
  const row = database.prepare('SELECT password FROM probe_senders WHERE address = ?').get(address) as { password: string } | undefined;
  return row?.password;
}

export function saveProbePassword(database: DatabaseSync, address: string, password: string, now: Date): void {
  database.prepare('INSERT INTO probe_senders (address, password, created_at) VALUES (?, ?, ?) ON CONFLICT (address) DO UPDATE SET password = excluded.password')
    .run(address, password, now.toISOString());
}
