/*
 * xlsx_zip.h — workbooks' parts are deflated at XLSX_ZIP_LEVEL instead of
 * zlib's default: the module stands in for minizip's
 * zipOpenNewFileInZip4_64, which libxlsxwriter calls for each part, and
 * passes every call on to minizip with that one change (xlsx_zip.c says
 * why and how).
 */
#ifndef CA_XLSX_ZIP_H
#define CA_XLSX_ZIP_H

/* zlib's fastest level: at a million findings it halves the deflate time
 * for a workbook about a sixth larger. */
#define XLSX_ZIP_LEVEL 1

/* 0 when minizip's own function has been found to pass calls on to, -1 if
 * not (then no workbook can be zipped). xlsx_write calls it first, which
 * also links this module into every program that writes workbooks. */
int xlsx_zip_ready(void);

#endif
