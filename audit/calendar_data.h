/*
 * calendar_data.h — the built-in copy of rules/calendar-cn.txt, compiled in
 * so that working-day arithmetic works without the data directory
 * (workdays.h uses it until workdays_load replaces it).
 */
#ifndef CA_CALENDAR_DATA_H
#define CA_CALENDAR_DATA_H

/* The file's bytes, NUL-terminated; static storage, never freed. */
extern const char calendar_data_cn[];

#endif
