/* The decision pipeline's shared state, cycle wiring, engine parameters
 * from the configuration, and small helpers; see pipeline.h. */
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/base/node.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/u64map.h"
#include "common/util.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/cycle/fee.h"
#include "plugins/revenue-ops/cycle/flow.h"
#include "plugins/revenue-ops/base/revenue.h"
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

static uint64_t flow_interval(const struct revenue *r)
{
	int64_t v = cfg_i(&r->cfg, CFG_FLOW_INTERVAL);
	return (uint64_t)(v < 60 ? 60 : v);
}

static uint64_t fee_interval(const struct revenue *r)
{
	int64_t v = cfg_i(&r->cfg, CFG_FEE_INTERVAL);
	return (uint64_t)(v < 60 ? 60 : v);
}

/* Start delays as the reference (flow 30 s, fees 90 s): the fee cycle
 * then finds a fresh flow analysis. */
static const struct cycle_def flow_def = {
    .name = "flow-analysis",
    .run = flow_cycle_run,
    .start_delay_sec = 30,
    .interval_sec = flow_interval,
    .jitter = 0.2,
};

static const struct cycle_def fee_def = {
    .name = "fee-adjustment",
    .run = fee_cycle_run,
    .start_delay_sec = 90,
    .interval_sec = fee_interval,
    .jitter = 0.2,
};

void pipeline_init(struct revenue *r)
{
	struct pipeline *pp = xzalloc(sizeof(*pp));

	pp->last = u64map_new();
	pp->clboss_present = -1;
	r->pipe = pp;
	pp->flow = cycle_start(r, &flow_def);
	pp->fee = cycle_start(r, &fee_def);
}

void pipeline_free(struct revenue *r)
{
	struct pipeline *pp = r->pipe;
	void *v;
	uint64_t k;

	if (!pp)
		return;
	cycle_stop(pp->flow);
	cycle_stop(pp->fee);
	while ((v = u64map_pop_any(pp->last, &k)))
		free(v);
	u64map_free(pp->last);
	flow_temporal_cache_free(pp->temporal);
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
