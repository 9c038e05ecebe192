/* The flow cycle; see flow.h. */
#include "plugins/revenue-ops/cycle/flow.h"
#include "common/clock.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/u64map.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/clboss.h"
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/forwards.h"
#include "plugins/revenue-ops/store/peers.h"
#include "plugins/revenue-ops/store/policy.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400ULL

_Static_assert(FLOW_MAX_DAYS <= FWD_STATS_MAX_DAYS,
	       "the flow window's daily buckets fit the forward statistics");

/* The windows flow_compute reads. */
enum flow_win { FLOW_W_ALL, FLOW_W_WINDOW, FLOW_W_1D, FLOW_W_30D, FLOW_NWIN };

/* Days of daily buckets the analysis uses. */
static size_t flow_days(const struct flow_params *fp)
{
	uint64_t wdays = (uint64_t)fp->window_days;
	return wdays < FLOW_MAX_DAYS ? wdays : FLOW_MAX_DAYS;
}

static void chan_fail(struct flow_chan *c, const char *what, const char *e)
{
	c->ok = false;
	snprintf(c->error, sizeof(c->error), "%s: %s", what, e);
}

/* Analyse one channel from its forward statistics @cs (windows of enum
 * flow_win, daily buckets of the flow window); database errors are
 * returned, engine refusals recorded in @c. */
static bool analyse(struct revenue *r, const struct flow_params *fp,
		    const struct congestion_params *cp,
		    const struct fee_ctl_params *feep,
		    struct fee_ctl_state *work, const struct chan_info *ci,
		    const struct fwd_chan_stats *cs, uint64_t now,
		    struct flow_chan *c, char **err)
{
	const struct fwd_totals *win = &cs->win[FLOW_W_WINDOW],
				*d1 = &cs->win[FLOW_W_1D],
				*d30 = &cs->win[FLOW_W_30D];
	struct flow_state probe_st;
	struct flow_result probe;
	struct kalman_obs kobs;
	struct congestion_obs co = {0};
	int64_t net[FLOW_MAX_DAYS];
	bool found;
	const char *e;

	memset(c, 0, sizeof(*c));
	c->ci = ci;
	c->ok = true;
	flow_lifetime_of(cs, FLOW_W_ALL, &c->life);
	if (!flow_state_load(r, &fp->kalman, ci->scid, &c->fst, &c->ks, err))
		return false;

	co.n_htlcs = ci->htlcs;
	co.max_accepted_htlcs = ci->max_accepted_htlcs;
	co.in_flight_msat = ci->htlc_value_msat;
	co.max_in_flight_msat = ci->max_inflight_msat;
	e = congestion_measure(cp, &co, &c->cong);
	if (e) {
		chan_fail(c, "congestion", e);
		return true;
	}

	c->obs.capacity_sat = ci->capacity_msat / 1000;
	c->obs.local_sat = ci->spendable_msat / 1000;
	if (c->obs.local_sat > c->obs.capacity_sat)
		c->obs.local_sat = c->obs.capacity_sat;
	c->obs.in_sat = win->in_msat / 1000;
	c->obs.out_sat = win->out_msat / 1000;
	c->obs.in_count = (uint32_t)win->in_count;
	c->obs.out_count = (uint32_t)win->out_count;
	c->obs.last_forward_sec = c->life.last_out_sec > c->life.last_in_sec
				      ? c->life.last_out_sec
				      : c->life.last_in_sec;
	/* Roles use the 30-day window, the lifetime when that is empty. */
	if (d30->in_count + d30->out_count) {
		c->obs.role_in_count = (uint32_t)d30->in_count;
		c->obs.role_out_count = (uint32_t)d30->out_count;
	} else {
		c->obs.role_in_count = (uint32_t)c->life.in_count;
		c->obs.role_out_count = (uint32_t)c->life.out_count;
	}
	c->obs.n_days = flow_days(fp);
	memcpy(c->obs.daily_in_sat, cs->daily_in_sat,
	       sizeof(*cs->daily_in_sat) * c->obs.n_days);
	memcpy(c->obs.daily_out_sat, cs->daily_out_sat,
	       sizeof(*cs->daily_out_sat) * c->obs.n_days);
	c->obs.congested = c->cong.congested;
	c->obs.fee_posterior_var = -1;
	/* An unreadable fee state only costs the posterior-width input
	 * (the fee cycle reports and replaces it). */
	if (!fee_state_load(r, ci->scid, ci->channel_id, work, &found, err)) {
		free(*err);
		*err = NULL;
		found = false;
	}
	if (found && work->version) {
		struct fee_ctl_posterior post;
		fee_ctl_posterior(feep, work, now, &post);
		c->obs.fee_posterior_var = post.std_ppm * post.std_ppm;
	}

	/* The Kalman update wants the flow confidence, which does not depend
	 * on the filter: take it from an analysis without one, on a copy of
	 * the state. */
	probe_st = c->fst;
	c->obs.kalman = NULL;
	e = flow_analyze(fp, &probe_st, &c->obs, now, &probe);
	if (e) {
		chan_fail(c, "flow", e);
		return true;
	}
	for (size_t i = 0; i < c->obs.n_days; i++)
		net[i] = (int64_t)c->obs.daily_out_sat[i] -
			 (int64_t)c->obs.daily_in_sat[i];
	c->z24 = kalman_measurement(
	    (int64_t)d1->out_msat - (int64_t)d1->in_msat, c->obs.capacity_sat);
	kobs = (struct kalman_obs){
	    .has_measurement = c->obs.capacity_sat > 0,
	    .z = c->z24,
	    .confidence = probe.confidence,
	    .volatility = kalman_volatility(net, c->obs.n_days),
	};
	e = kalman_step(&fp->kalman, &c->ks, &kobs, now, &c->kres);
	if (e) {
		chan_fail(c, "kalman", e);
		return true;
	}
	c->obs.kalman = &c->ks;
	e = flow_analyze(fp, &c->fst, &c->obs, now, &c->res);
	if (e)
		chan_fail(c, "flow", e);
	return true;
}

/* ---- temporal profiles ---- */

/* Count a row's forwards for @scid if it is one of the run's channels
 * (@idx: scid key -> its slot in the counts, allocated on first use). */
static void temporal_count(struct u64map *idx, const char *scid,
			   uint64_t now, uint64_t known_since, uint64_t t_sec,
			   uint64_t n)
{
	struct temporal_obs **slot;
	uint64_t k = scid ? scid_key(scid) : 0;

	if (!k || !(slot = u64map_get(idx, k)))
		return;
	if (!*slot) {
		*slot = xmalloc(sizeof(**slot));
		temporal_obs_init(*slot);
		(*slot)->known_since_sec = known_since;
	}
	/* Outside the window only if the clock stepped back: skip. */
	(void)temporal_obs_add(*slot, now, t_sec, n);
}

struct temporal_counting {
	struct u64map *idx;
	uint64_t now, known;
};

/* A (in, out, hour) group of forwards counts for both its channels. */
static void temporal_row(const char *in_scid, const char *out_scid,
			 uint64_t hour_sec, uint64_t n, void *arg)
{
	struct temporal_counting *tc = arg;

	temporal_count(tc->idx, in_scid, tc->now, tc->known, hour_sec, n);
	temporal_count(tc->idx, out_scid, tc->now, tc->known, hour_sec, n);
}

void flow_temporal_cache_free(struct u64map *cache)
{
	void *v;
	uint64_t k;

	if (!cache)
		return;
	while ((v = u64map_pop_any(cache, &k)))
		free(v);
	u64map_free(cache);
}

double flow_time_intensity(const struct revenue *r, const char *scid,
			   uint64_t now)
{
	const struct temporal_profile *p =
	    r->pipe && r->pipe->temporal
		? u64map_get(r->pipe->temporal, scid_key(scid))
		: NULL;

	return p ? temporal_intensity_at(p, now) : -1;
}

/* A profile reads only complete days, so within a UTC day it does not
 * change: reuse today's when every channel has one (an hourly cycle then
 * aggregates once a day, not 24 times). */
static bool temporal_from_cache(struct revenue *r, struct flow_run *run,
				size_t k, uint64_t now)
{
	struct u64map *cache = r->pipe ? r->pipe->temporal : NULL;

	if (!cache || r->pipe->temporal_day != now / DAY)
		return false;
	for (size_t i = 0; i < k; i++) {
		const struct temporal_profile *p = u64map_get(
		    cache, scid_key(run->ch[i].ci->scid));
		if (!p)
			return false;
		run->ch[i].temporal = *p;
	}
	return true;
}

static void temporal_to_cache(struct revenue *r, const struct flow_run *run,
			      size_t k, uint64_t now)
{
	if (!r->pipe)
		return;
	flow_temporal_cache_free(r->pipe->temporal);
	r->pipe->temporal = u64map_new();
	r->pipe->temporal_day = now / DAY;
	for (size_t i = 0; i < k; i++) {
		uint64_t key = scid_key(run->ch[i].ci->scid);
		struct temporal_profile *p;
		if (!key)
			continue;
		p = xmalloc(sizeof(*p));
		*p = run->ch[i].temporal;
		free(u64map_del(r->pipe->temporal, key));
		u64map_put(r->pipe->temporal, key, p);
	}
}

/* Fill the temporal profile of the first @k channels of @run. Database
 * errors are returned; engine refusals recorded in the channel. */
static bool temporal_pass(struct revenue *r, struct flow_run *run, size_t k,
			  uint64_t now, const char *only_scid, char **err)
{
	uint64_t retention =
	    (uint64_t)cfg_i(&r->cfg, CFG_FORWARD_RETENTION_DAYS);
	/* Hours older than the retention live on only as daily rollups. */
	uint64_t known = now > retention * DAY ? now - retention * DAY : 0;
	struct temporal_obs **obs = xzalloc(sizeof(*obs) * (k + 1));
	struct temporal_obs empty;
	struct temporal_params tp;
	struct u64map *idx = u64map_new();
	struct temporal_counting tc;
	bool ok = true;

	if (!only_scid && temporal_from_cache(r, run, k, now))
		goto out;
	for (size_t i = 0; i < k; i++) {
		uint64_t key = scid_key(run->ch[i].ci->scid);
		if (key)
			u64map_put(idx, key, &obs[i]);
	}
	tc.idx = idx;
	tc.now = now;
	tc.known = known;
	if (!forwards_hourly(r, temporal_window_start(now), only_scid,
			     temporal_row, &tc, err)) {
		ok = false;
		goto out;
	}
	temporal_params_default(&tp);
	temporal_obs_init(&empty);
	empty.known_since_sec = known;
	for (size_t i = 0; i < k; i++) {
		struct flow_chan *c = &run->ch[i];
		const char *e = temporal_profile_compute(
		    &tp, obs[i] ? obs[i] : &empty, now, &c->temporal);
		if (e && c->ok)
			chan_fail(c, "temporal", e);
	}
	if (!only_scid)
		temporal_to_cache(r, run, k, now);
out:
	for (size_t i = 0; i < k; i++)
		free(obs[i]);
	free(obs);
	u64map_free(idx);
	return ok;
}

bool flow_compute(struct revenue *r, const struct node_view *v, uint64_t now,
		  const char *only_scid, struct flow_run *out, char **err)
{
	struct flow_params fp;
	struct fee_ctl_params feep;
	struct fee_ctl_state *work;
	struct fwd_stats_spec spec = {.nwin = FLOW_NWIN, .now_sec = now};
	struct fwd_stats *fs;
	uint64_t wdays;
	const char **ids;
	size_t k = 0, *first, *next;

	memset(out, 0, sizeof(*out));
	params_flow(&r->cfg, &fp);
	params_fee_ctl(&r->cfg, &feep);
	wdays = (uint64_t)fp.window_days;
	spec.since_sec[FLOW_W_ALL] = 0;
	spec.since_sec[FLOW_W_WINDOW] =
	    now > wdays * DAY ? now - wdays * DAY : 0;
	spec.since_sec[FLOW_W_1D] = now > DAY ? now - DAY : 0;
	spec.since_sec[FLOW_W_30D] = now > 30 * DAY ? now - 30 * DAY : 0;
	spec.n_days = flow_days(&fp);
	spec.only_scid = only_scid;
	if (!forwards_stats_new(r, &spec, &fs, err))
		return false;
	work = xmalloc(sizeof(*work));
	out->ch = xzalloc(sizeof(*out->ch) * (v->nchans + 1));
	for (size_t i = 0; i < v->nchans; i++) {
		const struct chan_info *ci = &v->chans[i];
		if (!ci->active || (only_scid && strcmp(only_scid, ci->scid)))
			continue;
		if (!analyse(r, &fp, &feep.congestion, &feep, work, ci,
			     forwards_stats_chan(fs, ci->scid), now,
			     &out->ch[k], err)) {
			free(work);
			forwards_stats_free(fs);
			flow_run_free(out);
			return false;
		}
		k++;
	}
	free(work);
	forwards_stats_free(fs);
	out->n = k;
	if (!temporal_pass(r, out, k, now, only_scid, err)) {
		flow_run_free(out);
		return false;
	}
	/* Peers with several channels: the summed view. */
	ids = xmalloc(sizeof(*ids) * (k + 1));
	first = xmalloc(sizeof(*first) * (k + 1));
	next = xmalloc(sizeof(*next) * (k + 1));
	for (size_t i = 0; i < k; i++)
		ids[i] = out->ch[i].ci->peer_id;
	peers_group(ids, k, first, next);
	out->peers = xzalloc(sizeof(*out->peers) * (k + 1));
	for (size_t i = 0; i < k; i++) {
		struct flow_obs *obs;
		struct flow_result *res;
		size_t m = 0;

		if (first[i] != i)
			continue;
		for (size_t j = i; j < k; j = next[j])
			m += out->ch[j].ok;
		if (m < 2)
			continue;
		obs = xmalloc(sizeof(*obs) * m);
		res = xmalloc(sizeof(*res) * m);
		m = 0;
		for (size_t j = i; j < k; j = next[j])
			if (out->ch[j].ok) {
				obs[m] = out->ch[j].obs;
				res[m++] = out->ch[j].res;
			}
		struct flow_peer *fpr = &out->peers[out->npeers];
		snprintf(fpr->peer_id, sizeof(fpr->peer_id), "%s", ids[i]);
		if (!flow_aggregate_peer(&fp, obs, res, m, &fpr->res))
			out->npeers++;
		free(obs);
		free(res);
	}
	free(ids);
	free(first);
	free(next);
	return true;
}

/* ---- the cycle ---- */

struct flow_job {
	struct revenue *r;
	struct cycle *c;
	struct node_view *v;
};

static void flow_end(struct flow_job *j, const char *err)
{
	struct revenue *r = j->r;
	struct cycle *c = j->c;

	free(j);
	cycle_done(c, err);
	pipeline_flow_finished(r);
}

static void flow_reconciled(struct revenue *r, void *arg)
{
	struct flow_job *j = arg;
	node_view_free(j->v);
	j->v = NULL;
	flow_end(j, NULL);
	(void)r;
}

static void flow_gathered(struct revenue *r, struct node_view *v,
			  const char *gerr, void *arg)
{
	struct flow_job *j = arg;
	uint64_t now = clock_wall_sec(plugin_clock(r->plugin));
	struct reputation_params rp;
	struct flow_run run;
	uint64_t counted = 0, expired = 0, events = 0, pruned = 0;
	uint64_t retention =
	    (uint64_t)cfg_i(&r->cfg, CFG_FORWARD_RETENTION_DAYS);
	uint64_t cutoff = now > retention * DAY ? now - retention * DAY : 0;
	char *err = NULL;
	size_t nok = 0, ngrad = 0;

	if (gerr) {
		char *e = xfmt("gather: %s", gerr);
		flow_end(j, e);
		free(e);
		return;
	}
	if (!r->db) {
		node_view_free(v);
		flow_end(j, "database closed");
		return;
	}
	params_reputation(&r->cfg, &rp);
	/* Per-channel reads under one read transaction (the database's
	 * locks once per cycle, not per statement). */
	if (!store_batch_begin(r->db, &err))
		goto fail_view;
	if (!flow_compute(r, v, now, NULL, &run, &err)) {
		char *e2 = NULL;
		if (!store_batch_end(r->db, &e2))
			free(e2);
		goto fail_view;
	}
	if (!store_batch_end(r->db, &err))
		goto fail_run;
	for (size_t i = 0; i < run.n; i++) {
		if (run.ch[i].ok) {
			nok++;
			ngrad += run.ch[i].temporal.graduated;
		} else {
			plugin_log(r->plugin, PLOG_WARN, "flow: %s skipped: %s",
				   run.ch[i].ci->scid, run.ch[i].error);
		}
	}
	/* Everything the cycle learned, in one transaction. */
	if (!store_begin(r->db, &err))
		goto fail_run;
	if (!flow_persist(r, &run, now, &err) ||
	    (cfg_b(&r->cfg, CFG_ENABLE_REPUTATION) &&
	     !peers_reputation_update(r, v, &rp, now, &counted, &err)) ||
	    !policy_expire(r, now, &expired, &err) ||
	    (!r->pipe->snapshot_done && !peers_snapshot(r, v, now, &err)) ||
	    !peers_prune_events(r, cutoff, &events, &err))
		goto rollback;
	/* Bounded tables: fee and policy history 90 days (mempool samples
	 * 48 h: the fee cycle prunes them). */
	if (!fee_changes_prune(r, now > 90 * DAY ? now - 90 * DAY : 0, &err) ||
	    !policy_changes_prune(r, now > 90 * DAY ? now - 90 * DAY : 0, &err))
		goto rollback;
	if (!store_commit(r->db, &err))
		goto rollback;
	r->pipe->snapshot_done = true;
	/* Old raw forwards become daily rollups (chunked transactions of
	 * their own, so a long backlog never holds the lock for long). */
	if (!forwards_prune(r, cutoff, &pruned, &err)) {
		plugin_log(r->plugin, PLOG_WARN, "flow: pruning forwards: %s",
			   err);
		free(err);
		err = NULL;
	}
	plugin_log(r->plugin, PLOG_DEBUG,
		   "flow: %zu channels analysed (%zu peers aggregated, %zu "
		   "graduated temporal profiles), %llu forwards counted for "
		   "reputation, %llu policies expired, %llu forwards and %llu "
		   "connection events pruned",
		   nok, run.npeers, ngrad, (unsigned long long)counted,
		   (unsigned long long)expired, (unsigned long long)pruned,
		   (unsigned long long)events);
	if (expired)
		plugin_log(r->plugin, PLOG_INFO,
			   "flow: %llu expired policies "
			   "removed",
			   (unsigned long long)expired);
	flow_run_free(&run);
	/* Peers we no longer manage go back to CLBOSS; then the cycle ends
	 * (flow_reconciled frees the view). */
	j->v = v;
	clboss_reconcile(r, v, flow_reconciled, j);
	return;
rollback:
	store_rollback(r->db);
fail_run:
	flow_run_free(&run);
fail_view:
	node_view_free(v);
	flow_end(j, err);
	free(err);
}

static void flow_synced(struct revenue *r, bool ok, void *arg)
{
	/* A failed sync is logged by the store; analyse what we have. */
	(void)ok;
	gather_node(r, NULL, flow_gathered, arg);
}

static void flow_cycle_run(struct revenue *r, struct cycle *c)
{
	struct flow_job *j = xzalloc(sizeof(*j));
	j->r = r;
	j->c = c;
	forwards_sync(r, flow_synced, j);
}

static uint64_t flow_interval(const struct revenue *r)
{
	int64_t v = cfg_i(&r->cfg, CFG_FLOW_INTERVAL);
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

void flow_cycle_start(struct revenue *r)
{
	r->pipe->flow = cycle_start(r, &flow_def);
}
