/*
 * build_monthly.c — the monthly statistics (月度统计) of the Shenzhen rules:
 * a month's issuance, renewal and revocation by certificate type and
 * sector, with the certificates valid at the month's end; and its main
 * table as CSV for the regulator's spreadsheet (UTF-8 with a BOM, which is
 * what makes Excel read Chinese from a CSV file).
 */
#include "builders.h"
#include "csvout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "period.h"

#define MONTHLY_SECTION "月度统计"

static int monthly_oom(struct err *e)
{
	return err_set(e, CA_EINTERNAL, "", 0, 0, "out of memory");
}

static int monthly_totals(struct rm_section *s, struct err *e)
{
	static const char *const keys[] = {"签发证书", "更新证书", "撤销证书", "期末有效证书"};
	struct rm_table *t = s->nblocks ? s->blocks[s->nblocks - 1].table : NULL;
	char buf[32];

	if (!t || t->nrows == 0)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "%.0f", t->cells[(t->nrows - 1) * t->ncols + 2 + i].num);
		if (rm_kv(s, keys[i], buf) < 0)
			return monthly_oom(e);
	}
	return 0;
}

struct rm_doc *build_monthly(struct store *st, const struct config *cfg, const char *as_of,
			     const char *period, int reveal, struct err *e)
{
	static const char *const titles[] = {"证书类型", "业务类别"};
	static const char *const dims[] = {"coalesce(a.cert_type, '未知')",
					   REPORT_SQL_SECTOR("a.sector")};
	struct rm_doc *d = rm_doc_new("月度统计");
	struct rm_section *s;
	struct period p;
	char intro[256];

	(void)reveal; /* counts only: no personal data */
	if (!d) {
		monthly_oom(e);
		return NULL;
	}
	if (period_resolve(period, PERIOD_PREV_MONTH, as_of, &p, e) < 0 ||
	    report_header(d, cfg, "月度统计", as_of, p.text, e) < 0)
		goto fail;
	if (p.all) {
		err_set(e, CA_EUSAGE, "", 0, 0, "the monthly statistics need a period, not all records");
		goto fail;
	}
	s = rm_section(d, MONTHLY_SECTION, NULL);
	snprintf(intro, sizeof(intro), "依据《深圳市电子公共服务数字证书使用管理暂行办法》，"
		 "统计 %s 至 %s 期间的数字证书签发、更新和撤销情况，以及期末（%s 24时）有效证书数量。",
		 p.from, p.to, p.to);
	if (!s || rm_para(s, intro) < 0) {
		monthly_oom(e);
		goto fail;
	}
	if (report_activity(st, s, "按证书类型和业务类别", 2, titles, dims,
			    REPORT_ISSUED | REPORT_RENEWED | REPORT_REVOKED | REPORT_VALID, &p, e) < 0 ||
	    monthly_totals(s, e) < 0)
		goto fail;
	rm_kv_first(s);
	if (report_provenance(d, st, e) < 0)
		goto fail;
	return d;
fail:
	report_doc_free(d);
	return NULL;
}

/* One CSV field: quoted when it holds a separator, a quote or a line end. */
static int monthly_write_table(FILE *f, struct rm_table *t)
{
	struct rm_cell *cells = calloc(t->ncols, sizeof(*cells));
	struct rm_iter it;
	char num[32];
	int rc = 0, r;
	size_t i;

	if (!cells || fputs("\xEF\xBB\xBF", f) < 0) {
		free(cells);
		return -1;
	}
	for (i = 0; i < t->ncols && rc == 0; i++)
		rc = (i && fputc(',', f) == EOF) || csvout_field(f, t->cols[i].title, 1) < 0 ? -1 : 0;
	if (rc == 0 && fputs("\r\n", f) < 0)
		rc = -1;
	rm_iter_start(&it, t);
	while (rc == 0 && (r = rm_iter_next(&it, cells)) == 1) {
		for (i = 0; i < t->ncols && rc == 0; i++) {
			const char *v = cells[i].text;
			int text = 1;

			if (t->cols[i].type == RM_INT && !cells[i].is_null) {
				snprintf(num, sizeof(num), "%.0f", cells[i].num);
				v = num;
				text = 0;
			}
			rc = (i && fputc(',', f) == EOF) || csvout_field(f, v, text) < 0 ? -1 : 0;
		}
		if (rc == 0 && fputs("\r\n", f) < 0)
			rc = -1;
		memset(cells, 0, t->ncols * sizeof(*cells));
	}
	if (rc == 0 && r < 0)
		rc = -1;
	free(cells);
	return rc;
}

int build_monthly_csv(const struct rm_doc *d, const char *path, struct err *e)
{
	struct rm_table *t = NULL;
	char *tmp;
	FILE *f;
	int rc;

	for (size_t i = 0; i < d->nsections && !t; i++)
		if (!strcmp(d->sections[i].title, MONTHLY_SECTION))
			for (size_t b = 0; b < d->sections[i].nblocks && !t; b++)
				if (d->sections[i].blocks[b].kind == RM_TABLE)
					t = d->sections[i].blocks[b].table;
	if (!t)
		return err_set(e, CA_EINTERNAL, path, 0, 0, "no monthly table to write as CSV");
	if (!(tmp = output_temp(path, e)))
		return -1;
	f = fopen(tmp, "w");
	rc = f ? monthly_write_table(f, t) : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	if (rc < 0) {
		rc = err_set(e, CA_EIO, path, 0, 0, "unable to write '%s': %s", path,
			     errno ? strerror(errno) : "a table row could not be read");
		output_abort(tmp);
		free(tmp);
		return rc;
	}
	rc = output_commit(tmp, path, e);
	free(tmp);
	return rc;
}
