/*
 * xlsx_zip.c — the deflate level of the workbooks' parts; see xlsx_zip.h.
 *
 * libxlsxwriter (1.1.4 in Debian 12) zips each part of a workbook through
 * minizip at zlib's default level, 6, and offers no option for it. A
 * self-inspection of a million findings is a sheet of ~650 MB of XML, and
 * deflating it at level 6 was half the report's time (perf: libz 47% of
 * ~16 s); level 1 deflates it in about half the time, for a workbook ~17%
 * larger (77 MB -> 91 MB at a million findings).
 *
 * So this module defines minizip's zipOpenNewFileInZip4_64 itself. The
 * executable's definition comes first in the dynamic linker's search, so
 * libxlsxwriter's call lands here; it is passed on to minizip's own
 * function (dlsym RTLD_NEXT) unchanged except that a request for the
 * default level becomes XLSX_ZIP_LEVEL. The same document still gives the
 * same bytes. Where libxlsxwriter carries minizip inside itself (a static
 * build), its call never comes here and the parts are deflated at level 6:
 * the same workbook content, only slower.
 */
#include "xlsx_zip.h"

#include <dlfcn.h>
#include <pthread.h>
#include <zip.h>

typedef int (*xz_open_fn)(zipFile, const char *, const zip_fileinfo *, const void *, uInt,
			  const void *, uInt, const char *, int, int, int, int, int, int,
			  const char *, uLong, uLong, uLong, int);

static xz_open_fn xz_real;
static pthread_once_t xz_once = PTHREAD_ONCE_INIT;

static void xz_resolve(void)
{
	/* The cast goes through a union: ISO C has no conversion from an object
	 * pointer (dlsym's void *) to a function pointer. */
	union {
		void *p;
		xz_open_fn f;
	} u = {.p = dlsym(RTLD_NEXT, "zipOpenNewFileInZip4_64")};

	xz_real = u.f;
}

int xlsx_zip_ready(void)
{
	pthread_once(&xz_once, xz_resolve);
	return xz_real ? 0 : -1;
}

int zipOpenNewFileInZip4_64(zipFile file, const char *filename, const zip_fileinfo *zipfi,
			    const void *extrafield_local, uInt size_extrafield_local,
			    const void *extrafield_global, uInt size_extrafield_global,
			    const char *comment, int method, int level, int raw, int windowBits,
			    int memLevel, int strategy, const char *password, uLong crcForCrc,
			    uLong versionMadeBy, uLong flagBase, int zip64)
{
	if (xlsx_zip_ready() < 0)
		return ZIP_INTERNALERROR;
	if (method == Z_DEFLATED && level == Z_DEFAULT_COMPRESSION)
		level = XLSX_ZIP_LEVEL;
	return xz_real(file, filename, zipfi, extrafield_local, size_extrafield_local,
		       extrafield_global, size_extrafield_global, comment, method, level, raw,
		       windowBits, memLevel, strategy, password, crcForCrc, versionMadeBy,
		       flagBase, zip64);
}
