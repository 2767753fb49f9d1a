/*
 * rows.c - the in-memory copy of schema_versions (see rows.h).  Pure.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "rows.h"
#include "xalloc.h"
#include "banned.h"

struct row *
rows_add(struct rows *r)
{
	struct row *row;

	XGROW(r->v, r->cap, r->n + 1);
	row = &r->v[r->n++];
	memset(row, 0, sizeof(*row));
	row->duration_ms = -1;
	return row;
}

static int
cmp_row(const void *a, const void *b)
{
	return name_cmp(((const struct row *)a)->version,
	    ((const struct row *)b)->version);
}

void
rows_sort(struct rows *r)
{
	if (r->n > 1)
		qsort(r->v, r->n, sizeof(*r->v), cmp_row);
}

const struct row *
rows_find(const struct rows *r, const char *version)
{
	return name_bsearch(r->v, r->n, sizeof(*r->v),
	    offsetof(struct row, version), version);
}

void
rows_release(struct rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].version);
		free(r->v[i].checksum);
		free(r->v[i].rollback_checksum);
		free(r->v[i].applied_by);
		free(r->v[i].description);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

struct failure *
failures_add(struct failures *f)
{
	struct failure *x;

	XGROW(f->v, f->cap, f->n + 1);
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	return x;
}

static int
cmp_failure(const void *a, const void *b)
{
	return name_cmp(((const struct failure *)a)->version,
	    ((const struct failure *)b)->version);
}

void
failures_sort(struct failures *f)
{
	if (f->n > 1)
		qsort(f->v, f->n, sizeof(*f->v), cmp_failure);
}

const struct failure *
failures_find(const struct failures *f, const char *version)
{
	return name_bsearch(f->v, f->n, sizeof(*f->v),
	    offsetof(struct failure, version), version);
}

void
failures_release(struct failures *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].version);
		free(f->v[i].action);
		free(f->v[i].sqlstate);
		free(f->v[i].location);
		free(f->v[i].message);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}
