/*
 * workdays.h — China's working-day calendar: weekends, the official public
 * holidays and the adjusted working days (调休) announced by the State
 * Council each year, from the project's own file rules/calendar-cn.txt.
 *
 * The calendar is loaded once (workdays_load) and read-only afterwards;
 * without a load, the built-in copy compiled from that file is used, so the
 * binary works without its data directory. Years outside the file's range
 * count weekends only.
 */
#ifndef CA_WORKDAYS_H
#define CA_WORKDAYS_H

#include "err.h"

/* Loads a calendar file replacing the built-in one. */
int workdays_load(const char *path, struct err *e);
/* Years the calendar covers: first and last. */
void workdays_range(int *first, int *last);
/* 1 if date "YYYY-MM-DD" is a working day, 0 if not, -1 if malformed. */
int workdays_is_workday(const char *date);
/* The date n working days after date (n may be 0 or negative), out[11]. */
int workdays_add(const char *date, int n, char out[11]);
/* Working days d with a < d <= b (negative when b < a). */
int workdays_between(const char *a, const char *b, int *out);

#endif
