-- The evidence store (DESIGN §6). Embedded in the binary by the Makefile;
-- applied once to an empty file. Times are UTC "YYYY-MM-DD HH:MM:SS".
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;

CREATE TABLE certificate(
  serial TEXT NOT NULL, issuer TEXT NOT NULL, subject TEXT,
  cn TEXT, o TEXT, ou TEXT, c TEXT, st TEXT, l TEXT, email TEXT,
  id_type TEXT, id_number TEXT,
  not_before TEXT, not_after TEXT, sig_alg TEXT, key_alg TEXT, key_bits INTEGER,
  key_usage TEXT, ext_key_usage TEXT, policies TEXT, crl_dp TEXT, ocsp TEXT,
  is_ca INTEGER NOT NULL DEFAULT 0,
  status TEXT, revoked_at TEXT, revocation_reason TEXT,
  sha256 TEXT, source TEXT,
  UNIQUE(issuer, serial));
CREATE INDEX certificate_serial ON certificate(serial);
CREATE INDEX certificate_not_before ON certificate(not_before);

CREATE TABLE application(
  app TEXT PRIMARY KEY, applicant_type TEXT, applicant_name TEXT,
  applicant_id_type TEXT, applicant_id TEXT, cert_type TEXT, sector TEXT,
  channel TEXT, applied_at TEXT);

CREATE TABLE event(
  at TEXT NOT NULL, kind TEXT NOT NULL, app TEXT, serial TEXT, actor TEXT,
  method TEXT, result TEXT, reason TEXT, items TEXT, covers TEXT,
  cps_version TEXT, contract TEXT, new_serial TEXT, recipient_name TEXT,
  recipient_id_type TEXT, recipient_id TEXT, sha256 TEXT,
  source TEXT NOT NULL, line INTEGER NOT NULL,
  UNIQUE(source, line));
CREATE INDEX event_app ON event(app, kind, at);
-- Three events in four name no certificate: event_serial leaves them out
-- (a lookup by serial = x, or one saying serial IS NOT NULL, still uses it).
CREATE INDEX event_serial ON event(serial, kind, at) WHERE serial IS NOT NULL;
CREATE INDEX event_kind ON event(kind, at);

CREATE TABLE crl(issuer TEXT NOT NULL, this_update TEXT, next_update TEXT,
  number TEXT, source TEXT, UNIQUE(issuer, this_update, number));
CREATE TABLE crl_entry(issuer TEXT NOT NULL, serial TEXT NOT NULL,
  revoked_at TEXT, reason TEXT, crl_this_update TEXT,
  UNIQUE(issuer, serial, crl_this_update));
CREATE INDEX crl_entry_serial ON crl_entry(serial);

CREATE TABLE cps(version TEXT PRIMARY KEY, effective TEXT NOT NULL);
CREATE TABLE attestation(checklist TEXT, item TEXT, result TEXT, note TEXT,
  evidence TEXT, by TEXT, at TEXT, PRIMARY KEY(checklist, item));
CREATE TABLE reject(source TEXT NOT NULL, line INTEGER NOT NULL, reason TEXT NOT NULL,
  UNIQUE(source, line, reason));

-- What each ingested file contributed: idempotency and report provenance.
-- size and sha256 cover the bytes consumed so far (all of a file, or the
-- complete lines of a log); lines counts the lines among them, so that an
-- appended log is read on from where the last ingest stopped. mtime_ns is
-- the file's modification time when it was read: a file whose size and
-- mtime are unchanged is skipped without reading it again.
CREATE TABLE source_file(path TEXT PRIMARY KEY, kind TEXT, type TEXT,
  size INTEGER, sha256 TEXT, lines INTEGER, records INTEGER, rejects INTEGER,
  ingested_at TEXT, mtime_ns INTEGER);

-- Check runs and their results; reports render from these, never re-run checks.
CREATE TABLE run(id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT,
  as_of TEXT, tool_version TEXT, checklists TEXT);
CREATE TABLE item_result(run INTEGER NOT NULL, checklist TEXT NOT NULL,
  item TEXT NOT NULL, section TEXT, title TEXT, severity TEXT,
  kind TEXT,        -- check | metric | manual
  basis TEXT,       -- JSON array of citations
  method TEXT,      -- how it was checked, for the inspection record
  checked INTEGER, violations INTEGER, value REAL,
  result TEXT,      -- pass | fail | manual | na | error
  note TEXT,
  PRIMARY KEY(run, checklist, item));
CREATE TABLE finding(run INTEGER NOT NULL, checklist TEXT NOT NULL,
  item TEXT NOT NULL, key TEXT NOT NULL, severity TEXT, message TEXT,
  evidence TEXT,    -- JSON object, unmasked; outputs mask it
  status TEXT,      -- new | open | waived | fixed
  first_seen TEXT, last_seen TEXT, record_date TEXT,
  PRIMARY KEY(run, checklist, item, key));
CREATE INDEX finding_key ON finding(checklist, item, key);
CREATE TABLE report_log(kind TEXT, period TEXT, made_at TEXT, as_of TEXT,
  format TEXT, path TEXT);

-- The engine's materialised views kept between runs (audit/matcache.h):
-- which tables main.mat_<name> are made and from what definition, and the
-- keys ('serial' or 'app') written since, noted by triggers that exist
-- while any such table does.
CREATE TABLE mat_state(name TEXT PRIMARY KEY, def TEXT NOT NULL);
CREATE TABLE mat_dirty(kind TEXT NOT NULL, key TEXT NOT NULL,
  PRIMARY KEY(kind, key)) WITHOUT ROWID;

-- Views come last: a migration drops them and runs the rest of this file
-- from the first view on, so that an upgraded store has this version's.
--
-- One row per issued (non-CA) certificate with its application and the first
-- time of each step. "First" prefers a passing identity check or review, so
-- that a failed attempt later corrected does not hide the passing one: the
-- first passing one by the index order, else the first. t_misdeliver is the
-- first delivery of the certificate (or of its application, naming no
-- certificate) to an identity other than the applicant's.
CREATE VIEW issuance AS
SELECT c.serial, c.issuer, c.subject, c.cn, c.o, c.ou, c.c, c.st, c.l, c.email,
       c.id_type, c.id_number, c.not_before, c.not_after, c.sig_alg, c.key_alg,
       c.key_bits, c.key_usage, c.ext_key_usage, c.policies, c.crl_dp, c.ocsp,
       c.status, c.revoked_at, c.revocation_reason, c.sha256, c.source,
       ie.app AS app, ie.at AS t_issue, ie.actor AS issue_actor,
       a.applicant_type, a.applicant_name, a.applicant_id_type, a.applicant_id,
       a.cert_type, a.sector, a.channel, a.applied_at AS t_apply,
       n.at AS t_notice, n.items AS notice_items,
       (SELECT min(at) FROM event WHERE app = ie.app AND kind = 'accept') AS t_accept,
       idv.at AS t_identity, idv.method AS identity_method,
       idv.result AS identity_result, idv.actor AS identity_actor,
       rv.at AS t_review, rv.result AS review_result, rv.actor AS review_actor,
       ct.at AS t_contract, ct.cps_version AS contract_cps, ct.covers AS contract_covers,
       dl.at AS t_deliver, dl.recipient_name, dl.recipient_id,
       (SELECT min(d.at) FROM event d WHERE d.app = ie.app AND d.kind = 'deliver'
          AND (d.serial IS NULL OR d.serial = c.serial)
          AND upper(d.recipient_id) <> upper(a.applicant_id)) AS t_misdeliver
FROM certificate c
LEFT JOIN event ie ON ie.rowid = (SELECT rowid FROM event
    WHERE serial = c.serial AND kind = 'issue' ORDER BY at, rowid LIMIT 1)
LEFT JOIN application a ON a.app = ie.app
LEFT JOIN event n ON n.rowid = (SELECT rowid FROM event
    WHERE app = ie.app AND kind = 'notice' ORDER BY at, rowid LIMIT 1)
LEFT JOIN event idv ON idv.rowid = coalesce(
    (SELECT rowid FROM event WHERE app = ie.app AND kind = 'identity_verify'
       AND result = 'pass' ORDER BY at, rowid LIMIT 1),
    (SELECT rowid FROM event WHERE app = ie.app AND kind = 'identity_verify'
       ORDER BY at, rowid LIMIT 1))
LEFT JOIN event rv ON rv.rowid = coalesce(
    (SELECT rowid FROM event WHERE app = ie.app AND kind = 'review'
       AND result = 'pass' ORDER BY at, rowid LIMIT 1),
    (SELECT rowid FROM event WHERE app = ie.app AND kind = 'review'
       ORDER BY at, rowid LIMIT 1))
LEFT JOIN event ct ON ct.rowid = (SELECT rowid FROM event
    WHERE app = ie.app AND kind = 'contract' ORDER BY at, rowid LIMIT 1)
LEFT JOIN event dl ON dl.rowid = (SELECT rowid FROM event
    WHERE app = ie.app AND kind = 'deliver' AND serial = c.serial
    ORDER BY at, rowid LIMIT 1)
WHERE c.is_ca = 0;
