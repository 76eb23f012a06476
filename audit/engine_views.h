/*
 * engine_views.h — the SQL that sets up the engine's TEMP views and tables
 * (app_flow, revocation, mr_cert_type, mr_policy_oid, mr_issuer); see
 * engine_views.c for what each row means. Private to the engine.
 */
#ifndef CA_ENGINE_VIEWS_H
#define CA_ENGINE_VIEWS_H

/* Statements for sqlite3_exec, run before the read-only authorizer. */
extern const char *const engine_views_sql;

#endif
