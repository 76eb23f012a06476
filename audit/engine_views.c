/*
 * engine_views.c — the TEMP views and tables the engine sets up on the
 * store's connection before any checklist SQL runs (see engine.h). They
 * live in the connection's temp schema, so they never change the store
 * file, and they are rebuilt on every run so that a newer ca-audit's
 * definitions win.
 *
 * app_flow gives application-keyed items one row per application (from its
 * apply event, or any event naming it) with the first time of each step;
 * the steps' first times come from one GROUP BY walk of the event_app
 * index rather than a probe per step and application;
 * notice_items joins the items of every notice at or before the first
 * accept, since a CA may give the five matters in several notices.
 * revocation gives certificate-keyed revocation items the revocation time
 * (the source's, else the revoke event's) and the first CRL listing it.
 * Which certificates have a revoke event is one IN list, the serials of
 * the few revoke events read once, rather than a probe of event_serial
 * per certificate (a million random probes: 6.5 s against 1.4 s at 1M).
 *
 * app_flow and revocation are defined here as app_flow_def and
 * revocation_def: the engine materialises each, and main.issuance, as a
 * table kept in the store (matcache.h) the first time an item's SQL names
 * it, so that fourteen items scanning a million rows do not each re-run the
 * views' correlated subqueries, and a nightly run redoes only the rows of
 * what the nightly ingest wrote. app_flow_keyed is app_flow_def for the
 * applications in temp.mat_app, for that refresh: the filter is inside the
 * GROUP BY walk, where SQLite would not push it.
 *
 * activity_month gives each local month that has an RA event or a
 * certificate's notBefore, with the first such time. It seeks the event
 * index kind by kind and month by month (a loose index scan for the kinds)
 * rather than converting nine million event times with local_date(); the
 * certificates' first and last notBefore are two index seeks (one query
 * asking for both would read every certificate).
 */
#include "engine_views.h"

/* app_flow_def, and app_flow_keyed: its rows for the applications in
 * temp.mat_app, which the engine's kept tables refresh (matcache.c). */
#define APP_FLOW_VIEW(name, filter) \
	"CREATE TEMP VIEW " name " AS\n" \
	"SELECT b.*,\n" \
	"  (SELECT min(at) FROM main.event WHERE app = b.app AND kind = 'notice'\n" \
	"     AND at <= b.t_accept) AS t_notice,\n" \
	"  (SELECT group_concat(items) FROM main.event WHERE app = b.app\n" \
	"     AND kind = 'notice' AND at <= b.t_accept) AS notice_items,\n" \
	"  ct.at AS t_contract, ct.contract, ct.cps_version AS contract_cps,\n" \
	"  ct.covers AS contract_covers,\n" \
	"  (SELECT max(c.not_after) FROM main.event i\n" \
	"     JOIN main.certificate c ON c.serial = i.serial\n" \
	"     WHERE i.app = b.app AND i.kind = 'issue') AS last_not_after\n" \
	"FROM (SELECT x.app, a.applicant_type, a.applicant_name, a.applicant_id_type,\n" \
	"        a.applicant_id, a.cert_type, a.sector, a.channel, a.applied_at AS t_apply,\n" \
	"        x.t_accept, x.t_issue,\n" \
	"        (SELECT group_concat(serial) FROM (SELECT DISTINCT serial FROM main.event\n" \
	"           WHERE app = x.app AND kind = 'issue' AND serial IS NOT NULL\n" \
	"           ORDER BY serial)) AS serials,\n" \
	"        x.t_archive, x.t_purge, coalesce(a.applied_at, x.t_first) AS record_date\n" \
	"      FROM (SELECT app, min(CASE kind WHEN 'accept' THEN at END) AS t_accept,\n" \
	"              min(CASE kind WHEN 'issue' THEN at END) AS t_issue,\n" \
	"              min(CASE kind WHEN 'archive' THEN at END) AS t_archive,\n" \
	"              min(CASE kind WHEN 'purge' THEN at END) AS t_purge,\n" \
	"              min(at) AS t_first\n" \
	"            FROM main.event WHERE app IS NOT NULL" filter " GROUP BY app\n" \
	"            UNION ALL\n" \
	"            SELECT app, NULL, NULL, NULL, NULL, NULL FROM main.application ap\n" \
	"            WHERE NOT EXISTS (SELECT 1 FROM main.event e WHERE e.app = ap.app)" \
	filter ") x\n" \
	"      LEFT JOIN main.application a ON a.app = x.app) b\n" \
	"LEFT JOIN main.event ct ON ct.rowid = (SELECT rowid FROM main.event\n" \
	"    WHERE app = b.app AND kind = 'contract' ORDER BY at, rowid LIMIT 1);\n"

const char *const engine_views_sql =
	"CREATE TEMP TABLE IF NOT EXISTS mat_serial(key TEXT PRIMARY KEY) WITHOUT ROWID;\n"
	"CREATE TEMP TABLE IF NOT EXISTS mat_app(key TEXT PRIMARY KEY) WITHOUT ROWID;\n"
	"DROP VIEW IF EXISTS temp.app_flow_def;\n"
	APP_FLOW_VIEW("app_flow_def", "")
	"DROP VIEW IF EXISTS temp.app_flow_keyed;\n"
	APP_FLOW_VIEW("app_flow_keyed", " AND app IN (SELECT key FROM temp.mat_app)")
	"DROP VIEW IF EXISTS temp.revocation_def;\n"
	"CREATE TEMP VIEW revocation_def AS\n"
	"SELECT r.*, r.t_revoke AS record_date,\n"
	"  (SELECT min(ce.crl_this_update) FROM main.crl_entry ce\n"
	"     WHERE ce.issuer = r.issuer AND ce.serial = r.serial) AS first_listed\n"
	"FROM (SELECT c.serial, c.issuer, c.subject, c.status, c.revocation_reason,\n"
	"        coalesce(c.revoked_at, (SELECT min(at) FROM main.event\n"
	"          WHERE kind = 'revoke' AND serial = c.serial)) AS t_revoke\n"
	"      FROM main.certificate c\n"
	"      WHERE c.is_ca = 0 AND (c.status = 'revoked' OR c.revoked_at IS NOT NULL\n"
	"        OR c.serial IN (SELECT serial FROM main.event WHERE kind = 'revoke'))) r;\n"
	"DROP VIEW IF EXISTS temp.activity_month;\n"
	"CREATE TEMP VIEW activity_month AS\n"
	"WITH RECURSIVE\n"
	"  kinds(kind) AS (SELECT min(kind) FROM main.event\n"
	"    UNION ALL SELECT (SELECT min(kind) FROM main.event WHERE kind > kinds.kind)\n"
	"    FROM kinds WHERE kinds.kind IS NOT NULL),\n"
	"  span(lo, hi) AS (SELECT local_date(min(t)), local_date(max(u)) FROM (\n"
	"    SELECT (SELECT min(at) FROM main.event WHERE kind = kinds.kind) AS t,\n"
	"           (SELECT max(at) FROM main.event WHERE kind = kinds.kind) AS u\n"
	"    FROM kinds WHERE kind IS NOT NULL\n"
	"    UNION ALL SELECT (SELECT min(not_before) FROM main.certificate WHERE is_ca = 0),\n"
	"      (SELECT max(not_before) FROM main.certificate WHERE is_ca = 0))),\n"
	"  months(month) AS (SELECT substr(lo, 1, 7) FROM span WHERE lo IS NOT NULL\n"
	"    UNION ALL SELECT substr(date(month || '-01', '+1 month'), 1, 7)\n"
	"    FROM months, span WHERE month < substr(hi, 1, 7)),\n"
	"  bounds(month, s, e) AS (SELECT month, local_midnight(month || '-01'),\n"
	"    local_midnight(date(month || '-01', '+1 month')) FROM months),\n"
	"  firsts(month, t) AS (\n"
	"    SELECT month, (SELECT min(at) FROM main.event WHERE kind = kinds.kind\n"
	"                   AND at >= bounds.s AND at < bounds.e)\n"
	"    FROM bounds, kinds WHERE kinds.kind IS NOT NULL\n"
	"    UNION ALL\n"
	"    SELECT month, (SELECT min(not_before) FROM main.certificate WHERE is_ca = 0\n"
	"                   AND not_before >= bounds.s AND not_before < bounds.e)\n"
	"    FROM bounds)\n"
	"SELECT month, min(t) AS first_at FROM firsts GROUP BY month\n"
	"HAVING min(t) IS NOT NULL;\n"
	"CREATE TEMP TABLE IF NOT EXISTS mr_cert_type(v TEXT);\n"
	"CREATE TEMP TABLE IF NOT EXISTS mr_policy_oid(v TEXT);\n"
	"CREATE TEMP TABLE IF NOT EXISTS mr_issuer(v TEXT);\n"
	"DELETE FROM temp.mr_cert_type;\n"
	"DELETE FROM temp.mr_policy_oid;\n"
	"DELETE FROM temp.mr_issuer;\n";
