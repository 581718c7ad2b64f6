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
  {
    // The scheduler (src/schedule): job runs, the latest schedule slot each job has handled (missed runs), leases that
    // keep a job or the outbox's delivery to one process at a time, open alerts by fingerprint, the outbox of messages
    // for Discord, the accepted DNS snapshots of dns-drift, and the latest check results and certificate expiries
    // (read by the health endpoint).
    name: 'scheduler',
    sql: `
      CREATE TABLE job_runs (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        trigger TEXT NOT NULL,
        slot TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT NOT NULL,
        summary TEXT,
        alerts INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX job_runs_job ON job_runs (job, id);
      CREATE TABLE job_slots (
        job TEXT PRIMARY KEY,
        slot TEXT NOT NULL
      );
      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE alerts (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        state TEXT NOT NULL
      );
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel_id TEXT NOT NULL,
        nonce TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at TEXT,
        message_id TEXT
      );
      CREATE INDEX outbox_pending ON outbox (delivered_at, channel_id, id);
      CREATE TABLE dns_snapshots (
        domain TEXT PRIMARY KEY,
        records TEXT NOT NULL,
        accepted_at TEXT NOT NULL,
        accepted_by TEXT NOT NULL
      );
      CREATE TABLE check_results (
        domain TEXT PRIMARY KEY,
        checked_at TEXT NOT NULL,
        worst TEXT NOT NULL,
        checks TEXT NOT NULL
      );
      CREATE TABLE certificate_expiries (
        name TEXT PRIMARY KEY,
        not_after TEXT,
        checked_at TEXT NOT NULL
      );`,
  },
  {
    // Every change is recorded when it starts and when it ends, so that one cut short (the process killed, the
    // machine down) is found by the next run, reported as interrupted, and its steps finished or undone.
    name: 'operations',
    sql: `
      CREATE TABLE operations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        operation TEXT NOT NULL,
        target TEXT NOT NULL,
        actor TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        outcome TEXT,
        steps TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX operations_open ON operations (ended_at);`,
  },
  {
    // The outbox holds outcomes (schedule/outcome.ts), rendered into a Discord message only when delivered. A body
    // stored before is a message already rendered: it is kept, marked as such, and posted as it is.
    name: 'outbox-outcomes',
    sql: `
      UPDATE outbox SET body = json_object('type', 'rendered', 'body', json(body));`,
  },
  {
    // The CA's renewal window (ARI, RFC 9773) per certificate, the random time chosen in it, and when the CA may be
    // asked again (its Retry-After); the profile and `replaces` of the certificates mailops ordered; the window's
    // start beside each certificate's expiry for /metrics; mailops's account URL at each CA (for CAA's accounturi):
    // see src/store/renewal-info.ts.
    name: 'renewal-info',
    sql: `
      CREATE TABLE renewal_info (
        certificate_id TEXT PRIMARY KEY,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        explanation_url TEXT,
        renew_at TEXT NOT NULL,
        next_poll_at TEXT NOT NULL,
        fetched_at TEXT NOT NULL
      );
      CREATE TABLE issued_certificates (
        certificate_id TEXT PRIMARY KEY,
        profile TEXT,
        replaced TEXT,
        issued_at TEXT NOT NULL
      );
      ALTER TABLE certificate_expiries ADD COLUMN renewal_window_start TEXT;
      CREATE TABLE acme_accounts (
        directory_url TEXT PRIMARY KEY,
        account_url TEXT NOT NULL,
        seen_at TEXT NOT NULL
      );`,
  },
  {
    // Reports receivers mailed to the report address (src/reports): DMARC aggregate reports with their rows, SMTP TLS
    // reports with their policies, each stored once per reporter and report id; the messages set aside as unreadable
    // (once per content); and chasquid's mail log as read so far: its position, the queue's items and each delivery
    // attempt's result (src/store/reports.ts).
    name: 'reports',
    sql: `
      CREATE TABLE dmarc_reports (
        id INTEGER PRIMARY KEY,
        org TEXT NOT NULL,
        report_id TEXT NOT NULL,
        domain TEXT NOT NULL,
        reporter_email TEXT,
        begin_at TEXT NOT NULL,
        end_at TEXT NOT NULL,
        policy TEXT NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (org, report_id)
      );
      CREATE INDEX dmarc_reports_domain ON dmarc_reports (domain, end_at);
      CREATE TABLE dmarc_records (
        report INTEGER NOT NULL REFERENCES dmarc_reports (id) ON DELETE CASCADE,
        source_ip TEXT NOT NULL,
        count INTEGER NOT NULL,
        header_from TEXT NOT NULL,
        dkim TEXT NOT NULL,
        spf TEXT NOT NULL,
        disposition TEXT NOT NULL,
        auth TEXT NOT NULL
      );
      CREATE INDEX dmarc_records_report ON dmarc_records (report);
      CREATE TABLE tls_reports (
        id INTEGER PRIMARY KEY,
        org TEXT NOT NULL,
        report_id TEXT NOT NULL,
        contact TEXT,
        begin_at TEXT NOT NULL,
        end_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (org, report_id)
      );
      CREATE TABLE tls_policies (
        report INTEGER NOT NULL REFERENCES tls_reports (id) ON DELETE CASCADE,
        policy_type TEXT NOT NULL,
        policy_domain TEXT NOT NULL,
        success INTEGER NOT NULL,
        failure INTEGER NOT NULL,
        failures TEXT NOT NULL
      );
      CREATE INDEX tls_policies_domain ON tls_policies (policy_domain);
      CREATE TABLE set_aside_reports (
        sha256 TEXT PRIMARY KEY,
        received_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        size INTEGER NOT NULL,
        head BLOB NOT NULL
      );
      CREATE TABLE mail_log_position (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        inode TEXT NOT NULL,
        offset INTEGER NOT NULL,
        partial TEXT NOT NULL,
        read_at TEXT NOT NULL
      );
      CREATE TABLE queue_items (
        queue_id TEXT PRIMARY KEY,
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        done_at TEXT
      );
      CREATE INDEX queue_items_open ON queue_items (done_at, queued_at);
      CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        queue_id TEXT NOT NULL,
        at TEXT NOT NULL,
        sender TEXT NOT NULL,
        sender_domain TEXT NOT NULL,
        recipient TEXT NOT NULL,
        result TEXT NOT NULL CHECK (result IN ('sent', 'temporary', 'permanent')),
        reply TEXT
      );
      CREATE INDEX deliveries_domain ON deliveries (sender_domain, at);`,
  },
];
