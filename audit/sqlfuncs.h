/*
 * sqlfuncs.h — the SQL functions checklist rules may call (DESIGN §6):
 * uscc_valid(s), resident_id_valid(s), org_code_valid(s), id_valid(type, s),
 * add_workdays(date, n), workdays_between(a, b), has_item(list, item),
 * dn_attr(dn, name), mask_name(s), mask_id(s).
 *
 * Validators return 1/0 and NULL for a NULL argument. add_workdays and
 * workdays_between use China's official calendar (workdays.h); dates are
 * "YYYY-MM-DD" or stored UTC times (the date part, in the configured zone).
 * All functions are deterministic (SQLITE_DETERMINISTIC) and
 * SQLITE_INNOCUOUS, so they work under the engine's read-only authorizer.
 */
#ifndef CA_SQLFUNCS_H
#define CA_SQLFUNCS_H

#include <sqlite3.h>

#include "err.h"

int sqlfuncs_register(sqlite3 *db, struct err *e);

#endif
