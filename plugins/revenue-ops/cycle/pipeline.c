/* The state the flow and fee cycles share; see pipeline.h. */
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/u64map.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include <string.h>

/* ---- last decisions ---- */

const struct fee_last *pipeline_fee_last(const struct revenue *r,
					 const char *scid)
{
	uint64_t k = scid_key(scid);
	if (!r->pipe || !k)
		return NULL;
	return u64map_get(r->pipe->last, k);
}

void pipeline_set_fee_last(struct revenue *r, const struct fee_last *l)
{
	uint64_t k = scid_key(l->scid);
	struct fee_last *cur;

	if (!k)
		return;
	cur = u64map_get(r->pipe->last, k);
	if (!cur) {
		cur = xmalloc(sizeof(*cur));
		u64map_put(r->pipe->last, k, cur);
	}
	*cur = *l;
}

/* ---- cycles and waiters ---- */

void pipeline_init(struct revenue *r)
{
	struct pipeline *pp = xzalloc(sizeof(*pp));

	pp->last = u64map_new();
	pp->clboss_present = -1;
	r->pipe = pp;
}

/* Free a map whose values are single allocations (accepts NULL). */
static void free_values(struct u64map *m)
{
	void *v;
	uint64_t k;

	if (!m)
		return;
	while ((v = u64map_pop_any(m, &k)))
		free(v);
	u64map_free(m);
}

void pipeline_free(struct revenue *r)
{
	struct pipeline *pp = r->pipe;

	if (!pp)
		return;
	cycle_stop(pp->flow);
	cycle_stop(pp->fee);
	free_values(pp->last);
	free_values(pp->temporal);
	free(pp->flow_waiters);
	free(pp->fee_waiters);
	ratelimit_free(&pp->policy_rl);
	ratelimit_free(&pp->command_rl);
	free(pp);
	r->pipe = NULL;
}

static void add_waiter(struct pipeline_waiter **w, size_t *n, size_t *cap,
		       pipeline_done_fn fn, void *arg)
{
	xgrow(w, cap, *n + 1, sizeof(**w));
	(*w)[(*n)++] = (struct pipeline_waiter){fn, arg};
}

static void run_waiters(struct revenue *r, struct pipeline_waiter **w,
			size_t *n, size_t *cap)
{
	struct pipeline_waiter *list = *w;
	size_t count = *n;

	*w = NULL;
	*n = *cap = 0;
	for (size_t i = 0; i < count; i++)
		list[i].fn(r, list[i].arg);
	free(list);
}

void pipeline_run_flow(struct revenue *r, pipeline_done_fn fn, void *arg)
{
	struct pipeline *pp = r->pipe;
	add_waiter(&pp->flow_waiters, &pp->n_flow_waiters,
		   &pp->cap_flow_waiters, fn, arg);
	if (!cycle_running(pp->flow))
		cycle_wake(pp->flow);
}

void pipeline_run_fee(struct revenue *r, pipeline_done_fn fn, void *arg)
{
	struct pipeline *pp = r->pipe;
	add_waiter(&pp->fee_waiters, &pp->n_fee_waiters, &pp->cap_fee_waiters,
		   fn, arg);
	if (!cycle_running(pp->fee))
		cycle_wake(pp->fee);
}

void pipeline_flow_finished(struct revenue *r)
{
	struct pipeline *pp = r->pipe;
	pp->flow_runs_done++;
	run_waiters(r, &pp->flow_waiters, &pp->n_flow_waiters,
		    &pp->cap_flow_waiters);
}

void pipeline_fee_finished(struct revenue *r)
{
	struct pipeline *pp = r->pipe;
	run_waiters(r, &pp->fee_waiters, &pp->n_fee_waiters,
		    &pp->cap_fee_waiters);
}

json_t *fee_cycle_summary_json(const struct fee_cycle_summary *s)
{
	return json_pack("{s:I,s:s,s:s?,s:s?,s:s?,s:i,s:i,s:i,s:i,s:i}",
			 "time", (json_int_t)s->time_sec, "action",
			 s->action ? s->action : "no_change",
			 "dominant_input", s->dominant_step, "reason",
			 s->dominant_reason, "safety_block", s->safety_block,
			 "evaluated", s->evaluated, "changed", s->changed,
			 "adopted", s->adopted, "failed", s->failed,
			 "not_sent", s->would_change);
}

json_t *fee_cycle_counts_json(const struct fee_cycle_summary *s)
{
	return json_pack(
	    "{s:I,s:s,s:s?,s:s?,s:s?,s:i,s:i,s:i,s:i,s:i,s:i,"
	    "s:i,s:i}",
	    "time", (json_int_t)s->time_sec, "action",
	    s->action ? s->action : "none", "dominant_input", s->dominant_step,
	    "reason", s->dominant_reason, "safety_block", s->safety_block,
	    "evaluated", s->evaluated, "changed", s->changed, "adopted",
	    s->adopted, "held", s->held, "unchanged", s->unchanged, "failed",
	    s->failed, "not_sent", s->would_change, "errors", s->errors);
}
