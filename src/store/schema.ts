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
  {
    name: 'dkim-retirements',
    sql: `
      CREATE TABLE dkim_retirements (
        id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL,
        selector TEXT NOT NULL,
        record TEXT NOT NULL,
        layout TEXT NOT NULL,
        scheduled_at TEXT NOT NULL,
        due_at TEXT NOT NULL,
        retired_at TEXT,
        last_error TEXT,
        UNIQUE (domain, selector)
      );
      CREATE INDEX dkim_retirements_due ON dkim_retirements (retired_at, due_at);`,
  },
];
