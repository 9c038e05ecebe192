/* What every fee decision reads, and one channel's decision; see
 * fee_obs.h. */
#include "plugins/revenue-ops/cycle/fee_obs.h"
#include "common/clock.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/u64map.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/cycle/flow.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/neighbours.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include "plugins/revenue-ops/store/anchor.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/flow_state.h"
#include "plugins/revenue-ops/store/forwards.h"
#include "plugins/revenue-ops/store/peers.h"
#include "plugins/revenue-ops/store/policy.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400ULL

/* The channel's profitability class, ROI and recent rebalance costs, from
 * the accounting (costs, lifetime and 30-day revenue) plus what only the
 * fee state knows (probes, posterior variance). A channel the accounting
 * cannot read yet is priced without it (pnl_known false). */
static bool fill_pnl(struct revenue *r, const struct fee_ctl_params *fp,
		     const struct chan_info *ci, const struct fee_ctl_state *st,
		     const struct fwd_stats *fs, uint64_t now,
		     struct fee_ctl_obs *obs, char **err)
{
	struct pnl_channel_obs po;
	struct pnl_channel_result pc;
	struct pnl_params pp;
	struct fee_ctl_posterior post;

	obs->pnl_known = false;
	obs->rebalance_cost_30d_msat = 0;
	obs->rebalance_amount_30d_msat = 0;
	obs->rebalance_samples_30d = 0;
	if (!accounting_channel_obs(r, ci, now, fs, &po, err))
		return false;
	po.probe_attempts = st->probe_attempts;
	po.probe_success_sec = st->probe_success_sec;
	if (st->version) {
		fee_ctl_posterior(fp, st, now, &post);
		po.fee_posterior_var = post.std_ppm * post.std_ppm;
	}
	pnl_params_default(&pp);
	if (pnl_channel(&pp, &po, now, &pc) == NULL) {
		obs->pnl_known = true;
		obs->pnl_class = pc.cls;
		obs->roi = pc.roi;
		obs->marginal_roi = pc.marginal_roi;
	}
	obs->rebalance_cost_30d_msat = po.rebalance_cost_30d_msat;
	return accounting_rebalances_30d(r, ci, now,
					 &obs->rebalance_amount_30d_msat,
					 &obs->rebalance_samples_30d, err);
}

/* The windows of a fee cycle's forward statistics: the lifetime, 30 and
 * 7 days (the channel's P&L reads them too), 24 hours (HTLC hold times),
 * the flow window (a channel not yet analysed by the flow cycle), and
 * each channel's observation window, since its last fee update. */
enum fee_win {
	FEE_W_ALL,
	FEE_W_30D,
	FEE_W_7D,
	FEE_W_1D,
	FEE_W_FLOW,
	FEE_NWIN,
	FEE_W_SINCE_UPDATE = FEE_NWIN, /* the per-channel window */
};

/* What the forwards pass needs of each channel (fee_prepare). */
struct chan_prep {
	uint64_t since_sec;  /* observation window start; UINT64_MAX: none */
	double in_value_ppm; /* fee_ctl_liquidity_value_ppm */
};

/* Fill @o for one channel. Database errors are returned. */
static bool build_obs(struct fee_inputs *in, const struct chan_info *ci,
		      const struct fee_ctl_state *st, struct fee_ctl_obs *o,
		      const struct policy **pol, char **err)
{
	struct revenue *r = in->r;
	uint64_t now = in->now;
	const struct fwd_chan_stats *cs = forwards_stats_chan(in->fs, ci->scid);
	const struct fwd_totals *since = &cs->win[FEE_W_SINCE_UPDATE];
	struct flow_lifetime life;
	struct reputation_params rp;
	struct reputation_state rs;
	struct reputation_uptime up;
	struct congestion_obs co = {0};
	struct congestion_result cr;
	const char *scids[64];
	size_t nscids = 0;
	uint64_t nhold;
	bool found;

	fee_ctl_obs_init(o);
	o->capacity_sat = ci->capacity_msat / 1000;
	o->local_sat = ci->spendable_msat / 1000;
	if (o->local_sat > o->capacity_sat)
		o->local_sat = o->capacity_sat;
	o->opener = ci->we_opened ? PNL_OPENER_LOCAL : PNL_OPENER_REMOTE;
	/* The funding block dates the channel (10 minutes a block). */
	o->opened_sec = now;
	if (in->v->blockheight > ci->funding_height)
		o->opened_sec -=
		    (uint64_t)(in->v->blockheight - ci->funding_height) * 600;
	o->chain_fee_ppm = ci->fee_ppm;
	o->chain_base_msat = (int64_t)ci->fee_base_msat;
	o->prior_hint_ppm = neighbours_prior(in->np, ci->peer_id);

	*pol = policy_find(in->pols, in->npols, ci->peer_id);
	if (*pol)
		policy_to_fee_ctl(*pol, &o->policy);

	if (!flow_state_class(r, ci->scid, &o->flow_class, &o->window_in_sat,
			      &o->window_out_sat, &found, err))
		return false;
	/* The time context: how busy this UTC hour usually is for the
	 * channel, once its profile has graduated (-1 before). */
	o->time_intensity = flow_time_intensity(r, ci->scid, now);
	if (!found) {
		o->window_in_sat = cs->win[FEE_W_FLOW].in_msat / 1000;
		o->window_out_sat = cs->win[FEE_W_FLOW].out_msat / 1000;
	}
	flow_lifetime_of(cs, FEE_W_ALL, &life);
	o->last_forward_sec = life.last_out_sec;
	o->total_forward_count = life.in_count + life.out_count;
	o->lifetime_out_count = life.out_count;

	/* The observation window: everything since the last update. */
	o->win_out_msat = since->out_msat;
	o->win_in_credit_msat = since->in_credit_msat;
	o->win_forwards = (uint32_t)since->out_count;
	o->win_fee_failures = (uint32_t)since->fee_failures;

	/* The peer: reputation (read only: no decay is written), uptime
	 * over 24 h, HTLC hold time over 24 h on all its channels. */
	params_reputation(&r->cfg, &rp);
	if (cfg_b(&r->cfg, CFG_ENABLE_REPUTATION)) {
		if (!peers_reputation_get(r, ci->peer_id, &rs, &found, err))
			return false;
		o->peer_reputation =
		    reputation_score(&rp, found ? &rs : NULL, now);
	}
	if (!peers_uptime(r, ci->peer_id, ci->peer_connected,
			  now > DAY ? now - DAY : 0, now, &up, err))
		return false;
	o->peer_uptime_pct = up.uptime_pct;
	for (size_t i = in->peer_first[ci - in->v->chans];
	     i < in->v->nchans && nscids < ARRAY_SIZE(scids);
	     i = in->peer_next[i])
		scids[nscids++] = in->v->chans[i].scid;
	peers_hold_stats(in->fs, FEE_W_1D, scids, nscids, &o->peer_hold_avg_sec,
			 &o->peer_hold_std_sec, &nhold);
	if (!nhold)
		o->peer_hold_avg_sec = o->peer_hold_std_sec = -1;

	if (!fill_pnl(r, &in->p, ci, st, in->fs, now, o, err))
		return false;

	o->feerate_perkb = (double)in->v->opening_perkb;
	if (in->have_sample) {
		o->mempool_satvb = in->satvb;
		o->mempool_ma_satvb = in->ma_satvb;
		o->mempool_sample_sec = now;
	}

	co.n_htlcs = ci->htlcs;
	co.max_accepted_htlcs = ci->max_accepted_htlcs;
	co.in_flight_msat = ci->htlc_value_msat;
	co.max_in_flight_msat = ci->max_inflight_msat;
	if (!congestion_measure(&in->p.congestion, &co, &cr)) {
		o->congested = cr.congested;
		o->htlc_util = cr.util;
	}
	/* The operator's anchor, if one is in force now (an expired row is
	 * ignored here and deleted by the next write). */
	{
		struct fee_anchor a;
		if (!fee_anchor_get(r->db, ci->scid, ci->channel_id, now, &a,
				    &found, err))
			return false;
		fee_anchor_to_obs(found ? &a : NULL, o);
	}
	o->regime_change = false;
	{
		struct kalman_params kp;
		struct kalman_state ks;
		if (!flow_state_innovation(r, ci->scid, &ks, &found, err))
			return false;
		kalman_params_default(&kp);
		if (found)
			o->regime_change = kalman_regime_change(&kp, &ks);
	}
	return true;
}

bool fee_decide(struct fee_inputs *in, const struct chan_info *ci,
		struct fee_ctl_state *st, struct fee_ctl_decision *d,
		struct rng *rng, json_t **stored, const char **eng_err,
		char **err)
{
	struct fee_ctl_obs o;
	const struct policy *pol = NULL;
	bool found;
	char *lerr = NULL;

	*eng_err = NULL;
	if (!fee_state_load(in->r, ci->scid, ci->channel_id, st, &found,
			    &lerr)) {
		/* An unreadable state starts afresh (logged once here)
		 * rather than failing this channel every cycle. */
		plugin_log(in->r->plugin, PLOG_WARN, "fees: %s", lerr);
		free(lerr);
		memset(st, 0, sizeof(*st));
	}
	if (stored)
		*stored = fee_state_json(&in->p, st, in->now);
	if (!build_obs(in, ci, st, &o, &pol, err)) {
		if (stored)
			json_decref(*stored);
		return false;
	}
	/* A policy set after CLBOSS or the operator changed the fee wins
	 * over the hold: the operator has said what they want. */
	if (pol && pol->strategy != FEE_CTL_DYNAMIC && st->version &&
	    st->external_adopted_sec &&
	    pol->updated_at > st->external_adopted_sec)
		st->external_adopted_sec = 0;
	*eng_err = fee_ctl_step(&in->p, st, &o, in->now, rng, d);
	return true;
}

/* ---- gathering ---- */

static void got_priors(struct revenue *r, struct neighbour_priors *np,
		       const char *err, void *arg)
{
	struct fee_inputs *in = arg;
	struct node_view *v = in->pending_v;

	in->pending_v = NULL;
	in->np = np;
	if (err) {
		node_view_free(v);
		in->priced(r, NULL, err, in->priced_arg);
		return;
	}
	in->priced(r, v, NULL, in->priced_arg);
}

/* Gather the node, then the neighbours' fees its new channels need, then
 * call in->priced with the view. */
static void gathered(struct revenue *r, struct node_view *v, const char *err,
		     void *arg)
{
	struct fee_inputs *in = arg;

	if (err || !r->db) {
		in->priced(r, v, err ? err : "database closed",
			   in->priced_arg);
		return;
	}
	in->pending_v = v;
	neighbours_fetch(r, in->parent_id, v,
			 clock_wall_sec(plugin_clock(r->plugin)), got_priors,
			 in);
}

void fee_inputs_gather(struct fee_inputs *in, struct revenue *r,
		       const char *parent_id,
		       void (*priced)(struct revenue *r, struct node_view *v,
				      const char *err, void *arg),
		       void *arg)
{
	in->r = r;
	in->parent_id = parent_id;
	in->priced = priced;
	in->priced_arg = arg;
	gather_node(r, parent_id, gathered, in);
}

/* Mempool sample: the opening feerate in sat/vB, and the 24 h moving
 * average including it (the Vegas reflex compares the two). */
static bool mempool_stats(struct fee_inputs *in, char **err)
{
	double sum, cnt, stored_sum;
	uint64_t stored_n;

	in->have_sample = in->v->opening_perkb > 0;
	if (!in->have_sample)
		return true;
	in->satvb = (double)in->v->opening_perkb / 1000.0;
	if (!mempool_samples_since(in->r, in->now > DAY ? in->now - DAY : 0,
				   &stored_sum, &stored_n, err))
		return false;
	sum = in->satvb;
	cnt = 1;
	sum += stored_sum;
	cnt += (double)stored_n;
	in->ma_satvb = sum / cnt;
	return true;
}

static uint64_t since_update_of(const char *scid, void *arg)
{
	struct fee_inputs *in = arg;
	const struct chan_prep *c = u64map_get(in->prep, scid_key(scid));

	return c ? c->since_sec : UINT64_MAX;
}

static double in_value_of(const char *scid, void *arg)
{
	struct fee_inputs *in = arg;
	const struct chan_prep *c = u64map_get(in->prep, scid_key(scid));

	return c ? c->in_value_ppm : 0;
}

/* Per active channel: where its observation window starts (its last fee
 * update; the whole history for a fresh or unreadable state; nothing
 * counts for a channel @only_scid leaves out) and what liquidity
 * returned to it is worth, from its live fee and balance. */
static void load_preps(struct fee_inputs *in, const char *only_scid)
{
	struct fee_ctl_state *st = xmalloc(sizeof(*st));

	in->prep = u64map_new();
	in->preps = xzalloc(sizeof(*in->preps) * (in->v->nchans + 1));
	for (size_t i = 0; i < in->v->nchans; i++) {
		const struct chan_info *ci = &in->v->chans[i];
		struct chan_prep *c = &in->preps[i];
		uint64_t k = scid_key(ci->scid);
		char *err = NULL;
		bool found;
		if (!ci->active || !k)
			continue;
		c->in_value_ppm = fee_ctl_liquidity_value_ppm(
		    &in->p, ci->fee_ppm, ci->to_us_msat / 1000,
		    ci->capacity_msat / 1000);
		c->since_sec = UINT64_MAX;
		u64map_put(in->prep, k, c);
		if (only_scid && strcmp(ci->scid, only_scid))
			continue;
		/* decide_one reads it again and reports a problem. */
		c->since_sec = 0;
		if (fee_state_load(in->r, ci->scid, ci->channel_id, st, &found,
				   &err) &&
		    st->version)
			c->since_sec = st->last_update_sec;
		free(err);
	}
	free(st);
}

/* What every channel's observation reads, once per cycle: the forward
 * statistics of every channel (or only @only_scid's) and the channels
 * grouped by peer. */
bool fee_inputs_prepare(struct fee_inputs *in, const char *only_scid,
			char **err)
{
	uint64_t now = in->now,
		 wdays = (uint64_t)cfg_i(&in->r->cfg, CFG_FLOW_WINDOW_DAYS);
	struct fwd_stats_spec spec = {.nwin = FEE_NWIN,
				      .chan_since = since_update_of,
				      .chan_since_arg = in,
				      .in_value_ppm = in_value_of,
				      .in_value_arg = in,
				      .now_sec = now,
				      .only_scid = only_scid};
	const char **ids = xmalloc(sizeof(*ids) * (in->v->nchans + 1));

	spec.since_sec[FEE_W_ALL] = 0;
	spec.since_sec[FEE_W_30D] = now > 30 * DAY ? now - 30 * DAY : 0;
	spec.since_sec[FEE_W_7D] = now > 7 * DAY ? now - 7 * DAY : 0;
	spec.since_sec[FEE_W_1D] = now > DAY ? now - DAY : 0;
	spec.since_sec[FEE_W_FLOW] = now > wdays * DAY ? now - wdays * DAY : 0;
	in->peer_first = xmalloc(sizeof(size_t) * (in->v->nchans + 1));
	in->peer_next = xmalloc(sizeof(size_t) * (in->v->nchans + 1));
	for (size_t i = 0; i < in->v->nchans; i++)
		ids[i] = in->v->chans[i].peer_id;
	peers_group(ids, in->v->nchans, in->peer_first, in->peer_next);
	free(ids);
	load_preps(in, only_scid);
	return forwards_stats_new(in->r, &spec, &in->fs, err);
}

bool fee_inputs_load(struct fee_inputs *in, char **err)
{
	return policy_load_all(in->r, in->now, &in->pols, &in->npols, err) &&
	       mempool_stats(in, err);
}

void fee_inputs_release(struct fee_inputs *in)
{
	forwards_stats_free(in->fs);
	free(in->peer_first);
	free(in->peer_next);
	u64map_free(in->prep);
	free(in->preps);
	policy_array_free(in->pols, in->npols);
	neighbours_free(in->np);
	node_view_free(in->v);
	memset(in, 0, sizeof(*in));
}

const char *fee_block_reason(struct revenue *r)
{
	if (cfg_b(&r->cfg, CFG_DRY_RUN))
		return "dry_run";
	if (!cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED))
		return "fee_authority_disabled";
	if (cfg_b(&r->cfg, CFG_PAUSED))
		return "paused";
	return NULL;
}
