// The state database's schema, as migrations in the order they run (see database.ts). Append; never edit one that
// has shipped.

export interface Migration {
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    name: '0001-audit',
    sql: `
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        operation TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT
      );
      CREATE INDEX audit_at ON audit (at);`,
  },
  {
    // The probe sender of each domain and its generated password (mailops's own credential, see src/probe).
    name: '0002-probe-senders',
    sql: `
      CREATE TABLE probe_senders (
        domain TEXT PRIMARY KEY,
        address TEXT NOT NULL,
        password TEXT NOT NULL,
        created_at TEXT NOT NULL
      );`,
  },
];
