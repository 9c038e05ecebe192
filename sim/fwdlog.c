/* Forward records; see fwdlog.h. */
#include "sim/fwdlog.h"
#include "common/util.h"
#include <string.h>

void fwdlog_init(struct fwdlog *l)
{
	memset(l, 0, sizeof(*l));
	l->next_updated_index = 1;
}

void fwdlog_free(struct fwdlog *l)
{
	free(l->v);
	free(l->updates);
	memset(l, 0, sizeof(*l));
}

struct fwd *fwdlog_add(struct fwdlog *l, const struct fwd *f)
{
	struct fwd *n;

	xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	n = &l->v[l->n];
	*n = *f;
	n->created_index = l->n + 1;
	n->updated_index = 0;
	l->n++;
	return n;
}

struct fwd *fwdlog_resolve(struct fwdlog *l, uint64_t created_index,
			   enum fwd_status status, uint64_t resolved_ms)
{
	struct fwd *f;

	if (created_index == 0 || created_index > l->n)
		return NULL;
	f = &l->v[created_index - 1];
	f->status = status;
	f->resolved_ms = resolved_ms;
	f->updated_index = l->next_updated_index++;
	xgrow(&l->updates, &l->capupdates, l->nupdates + 1,
	      sizeof(*l->updates));
	l->updates[l->nupdates++] =
	    (struct fwd_update){f->updated_index, created_index};
	return f;
}

const struct fwd *fwdlog_update_at(const struct fwdlog *l, size_t k)
{
	const struct fwd *f = &l->v[l->updates[k].created_index - 1];

	return f->updated_index == l->updates[k].updated_index ? f : NULL;
}

size_t fwdlog_updates_from(const struct fwdlog *l, uint64_t start)
{
	size_t lo = 0, hi = l->nupdates;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->updates[mid].updated_index < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *fwd_status_name(enum fwd_status s)
{
	switch (s) {
	case FWD_OFFERED:
		return "offered";
	case FWD_SETTLED:
		return "settled";
	case FWD_FAILED:
		return "failed";
	case FWD_LOCAL_FAILED:
		return "local_failed";
	}
	return "offered";
}
