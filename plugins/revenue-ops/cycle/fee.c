/* The fee cycle, fee state storage and revenue-fee-debug; see
 * fee_cycle.h. */
#include "plugins/revenue-ops/cycle/fee.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/u64map.h"
#include "common/util.h"
#include "plugins/revenue-ops/store/anchor.h"
#include "plugins/revenue-ops/cycle/clboss.h"
#include "plugins/revenue-ops/store/clboss.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/cycle/flow.h"
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "plugins/revenue-ops/store/forwards.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/neighbours.h"
#include "plugins/revenue-ops/store/peers.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/cycle/publish.h"
#include "plugins/revenue-ops/store/policy.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400ULL
/* setchannel calls in flight at once: enough to finish a big node's
 * cycle quickly without flooding lightningd. */
#define SETCHANNEL_PARALLEL 8

/* ---- explaining a decision ---- */

static char *why_text(const struct fee_ctl_decision *d)
{
	const char *by = fee_ctl_step_name(d->decided_by);
	switch (d->action) {
	case FEE_CTL_SET:
		return xfmt(
		    "fee %lld -> %lld ppm: decided by %s (%s), within "
		    "floor %lld / ceiling %lld%s",
		    (long long)d->current_fee_ppm, (long long)d->fee_ppm, by,
		    d->reason ? d->reason : "", (long long)d->floor_ppm,
		    (long long)d->ceiling_ppm,
		    d->enforce_limits ? ""
				      : " (a policy, probe or fire-sale "
					"fee: not clamped to the "
					"dynamic range)");
	case FEE_CTL_ADOPT_EXTERNAL:
		return xfmt("the live fee %lld ppm was set outside the "
			    "controller (the operator, CLBOSS or another "
			    "tool): adopted as ours and held instead of "
			    "fighting it",
			    (long long)d->current_fee_ppm);
	case FEE_CTL_NO_CHANGE:
		break;
	}
	return xfmt("fee kept at %lld ppm: %s (decided by %s: %s)",
		    (long long)d->current_fee_ppm,
		    d->skip_reason ? d->skip_reason : "no change", by,
		    d->reason ? d->reason : "");
}

/* The operator's anchor, when the Thompson step blended one in. */
static char *with_anchor(const struct fee_ctl_decision *d, char *why)
{
	double target =
	    fee_ctl_step_num(d, FEE_STEP_THOMPSON, "anchor_target_ppm");
	char *out;

	if (!isfinite(target))
		return why;
	out = xfmt("%s; the sample %.0f ppm was pulled toward the fee anchor "
		   "%.0f ppm (weight %g) to %.0f ppm",
		   why,
		   fee_ctl_step_num(d, FEE_STEP_THOMPSON, "sampled_ppm"),
		   target,
		   fee_ctl_step_num(d, FEE_STEP_THOMPSON, "anchor_weight"),
		   fee_ctl_step_num(d, FEE_STEP_THOMPSON, "anchored_ppm"));
	free(why);
	return out;
}

json_t *fee_decision_json(const struct fee_ctl_decision *d)
{
	json_t *steps = json_array();
	char *why = with_anchor(d, why_text(d));
	json_t *o;

	for (size_t i = 0; i < FEE_STEP_NUM; i++) {
		const struct fee_ctl_step_rec *s = &d->steps[i];
		json_t *nums = json_object();
		json_t *so;
		for (size_t k = 0; k < s->n_nums; k++) {
			double v = s->nums[k].value;
			json_object_set_new(nums, s->nums[k].name,
					    isfinite(v) ? json_real(v)
							: json_null());
		}
		so = json_pack("{s:s,s:b,s:b,s:s,s:I,s:I,s:o}", "step",
			       fee_ctl_step_name((enum fee_ctl_step_id)i),
			       "reached", s->evaluated, "applied", s->applied,
			       "reason", s->reason ? s->reason : "",
			       "fee_in_ppm", (json_int_t)s->fee_in_ppm,
			       "fee_out_ppm", (json_int_t)s->fee_out_ppm,
			       "numbers", nums);
		if (!s->evaluated)
			json_object_set_new(
			    so, "preempted_by",
			    json_string(fee_ctl_step_name(s->preempted_by)));
		json_array_append_new(steps, so);
	}
	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:b,s:I,s:I,s:s,s:s,s:s?,s:s?,"
		      "s:b,s:o,s:s}",
		      "action", fee_ctl_action_name(d->action), "class",
		      fee_ctl_class_name(d->cls), "current_fee_ppm",
		      (json_int_t)d->current_fee_ppm, "fee_ppm",
		      (json_int_t)d->fee_ppm, "base_fee_msat",
		      (json_int_t)d->base_fee_msat, "enforce_limits",
		      d->enforce_limits, "floor_ppm", (json_int_t)d->floor_ppm,
		      "ceiling_ppm", (json_int_t)d->ceiling_ppm, "decided_by",
		      fee_ctl_step_name(d->decided_by), "reason",
		      d->reason ? d->reason : "", "skip_reason", d->skip_reason,
		      "aimd_event", d->aimd_event, "observation_recorded",
		      d->observation_recorded, "steps", steps, "why", why);
	free(why);
	if (d->seed_from)
		json_object_set_new(o, "seeded",
				    json_pack("{s:f,s:s}", "prior_mean_ppm",
					      d->seed_prior_ppm, "from",
					      d->seed_from));
	return o;
}

/* ---- the per-channel observation ---- */

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

struct fee_job;

struct fee_item {
	const struct chan_info *ci;
	bool decided; /* fee_ctl_step ran without error */
	double *blob; /* state to persist, or NULL */
	size_t blob_len;
	enum fee_ctl_action action;
	enum fee_ctl_class cls;
	enum fee_ctl_step_id decided_by;
	const char *reason, *skip_reason, *outcome;
	int64_t old_fee, new_fee, old_base, new_base, floor, ceiling;
	bool send;	     /* setchannel wanted */
	bool clboss_blocked; /* could not unmanage: left alone */
	bool sent_ok;
	int64_t actual_fee; /* from setchannel's reply; -1 unknown */
	double time_intensity; /* the THOMPSON step's; NaN: not reached */
	char *error;
};

/* What the forwards pass needs of each channel (fee_prepare). */
struct chan_prep {
	uint64_t since_sec;  /* observation window start; UINT64_MAX: none */
	double in_value_ppm; /* fee_ctl_liquidity_value_ppm */
};

struct fee_job {
	struct revenue *r;
	struct cycle *c;     /* NULL for fee-debug */
	struct command *cmd; /* fee-debug */
	char only[72];	     /* fee-debug filter, "" for all */
	struct node_view *v;
	uint64_t now;
	struct fee_ctl_params p;
	struct policy *pols;
	size_t npols;
	double satvb, ma_satvb;
	bool have_sample;
	struct rng rng; /* fee-debug's forked generator */
	struct fee_item *items;
	size_t n;
	/* Read once for all channels (fee_prepare): their forwards (windows
	 * of enum fee_win), and which channels share a peer (indices into
	 * v->chans, see peers_group). */
	struct fwd_stats *fs;
	size_t *peer_first, *peer_next;
	/* scid key -> struct chan_prep (one per active channel). */
	struct u64map *prep;
	struct chan_prep *preps;
	/* Fee priors of new channels (neighbours.h), and where the gathered
	 * view goes once they are known. */
	struct neighbour_priors *np;
	void (*priced)(struct revenue *r, struct node_view *v,
		       const char *err, void *arg);
	struct node_view *pending_v;
	size_t next_send, inflight;
	bool live;
	bool in_send, send_again, finished;
	const char *block; /* why nothing is sent, or NULL */
	char **unmanage;   /* distinct peers to unmanage */
	size_t nunmanage;
	bool *unmanaged_ok;
};

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

/* Fill @o for one channel. Database errors are returned. */
static bool build_obs(struct fee_job *j, const struct chan_info *ci,
		      const struct fee_ctl_state *st, struct fee_ctl_obs *o,
		      const struct policy **pol, char **err)
{
	struct revenue *r = j->r;
	uint64_t now = j->now;
	const struct fwd_chan_stats *cs = forwards_stats_chan(j->fs, ci->scid);
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
	o->opened_sec =
	    j->v->blockheight > ci->funding_height
		? now - (uint64_t)(j->v->blockheight - ci->funding_height) * 600
		: now;
	o->chain_fee_ppm = ci->fee_ppm;
	o->chain_base_msat = (int64_t)ci->fee_base_msat;
	o->prior_hint_ppm = neighbours_prior(j->np, ci->peer_id);

	*pol = policy_find(j->pols, j->npols, ci->peer_id);
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
	for (size_t i = j->peer_first[ci - j->v->chans];
	     i < j->v->nchans && nscids < ARRAY_SIZE(scids);
	     i = j->peer_next[i])
		scids[nscids++] = j->v->chans[i].scid;
	peers_hold_stats(j->fs, FEE_W_1D, scids, nscids, &o->peer_hold_avg_sec,
			 &o->peer_hold_std_sec, &nhold);
	if (!nhold)
		o->peer_hold_avg_sec = o->peer_hold_std_sec = -1;

	if (!fill_pnl(r, &j->p, ci, st, j->fs, now, o, err))
		return false;

	o->feerate_perkb = (double)j->v->opening_perkb;
	if (j->have_sample) {
		o->mempool_satvb = j->satvb;
		o->mempool_ma_satvb = j->ma_satvb;
		o->mempool_sample_sec = now;
	}

	co.n_htlcs = ci->htlcs;
	co.max_accepted_htlcs = ci->max_accepted_htlcs;
	co.in_flight_msat = ci->htlc_value_msat;
	co.max_in_flight_msat = ci->max_inflight_msat;
	if (!congestion_measure(&j->p.congestion, &co, &cr)) {
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

/* Load, observe, decide one channel. @eng_err is the engine's refusal
 * (the channel is skipped); database errors are returned. */
static bool decide_one(struct fee_job *j, const struct chan_info *ci,
		       struct fee_ctl_state *st, struct fee_ctl_decision *d,
		       struct rng *rng, json_t **stored, const char **eng_err,
		       char **err)
{
	struct fee_ctl_obs o;
	const struct policy *pol = NULL;
	bool found;
	char *lerr = NULL;

	*eng_err = NULL;
	if (!fee_state_load(j->r, ci->scid, ci->channel_id, st, &found,
			    &lerr)) {
		/* An unreadable state starts afresh (logged once here)
		 * rather than failing this channel every cycle. */
		plugin_log(j->r->plugin, PLOG_WARN, "fees: %s", lerr);
		free(lerr);
		memset(st, 0, sizeof(*st));
	}
	if (stored)
		*stored = fee_state_json(&j->p, st, j->now);
	if (!build_obs(j, ci, st, &o, &pol, err)) {
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
	*eng_err = fee_ctl_step(&j->p, st, &o, j->now, rng, d);
	return true;
}

/* ---- shared gathering ---- */

static void job_free(struct fee_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->items[i].blob);
		free(j->items[i].error);
	}
	free(j->items);
	for (size_t i = 0; i < j->nunmanage; i++)
		free(j->unmanage[i]);
	free(j->unmanage);
	free(j->unmanaged_ok);
	forwards_stats_free(j->fs);
	free(j->peer_first);
	free(j->peer_next);
	u64map_free(j->prep);
	free(j->preps);
	policy_array_free(j->pols, j->npols);
	neighbours_free(j->np);
	node_view_free(j->v);
	free(j);
}

static void got_priors(struct revenue *r, struct neighbour_priors *np,
		       const char *err, void *arg)
{
	struct fee_job *j = arg;
	struct node_view *v = j->pending_v;

	j->pending_v = NULL;
	j->np = np;
	if (err) {
		node_view_free(v);
		j->priced(r, NULL, err, j);
		return;
	}
	j->priced(r, v, NULL, j);
}

/* Gather the node, then the neighbours' fees its new channels need, then
 * call j->priced with the view. */
static void gathered(struct revenue *r, struct node_view *v, const char *err,
		     void *arg)
{
	struct fee_job *j = arg;

	if (err || !r->db) {
		j->priced(r, v, err ? err : "database closed", j);
		return;
	}
	j->pending_v = v;
	neighbours_fetch(r, j->cmd ? command_id(j->cmd) : NULL, v,
			 clock_wall_sec(plugin_clock(r->plugin)), got_priors,
			 j);
}

static void gather_priced(struct fee_job *j,
			  void (*priced)(struct revenue *r,
					 struct node_view *v, const char *err,
					 void *arg))
{
	j->priced = priced;
	gather_node(j->r, j->cmd ? command_id(j->cmd) : NULL, gathered, j);
}

/* Mempool sample: the opening feerate in sat/vB, and the 24 h moving
 * average including it (the Vegas reflex compares the two). */
static bool mempool_stats(struct fee_job *j, char **err)
{
	double sum, cnt, stored_sum;
	uint64_t stored_n;

	j->have_sample = j->v->opening_perkb > 0;
	if (!j->have_sample)
		return true;
	j->satvb = (double)j->v->opening_perkb / 1000.0;
	if (!mempool_samples_since(j->r, j->now > DAY ? j->now - DAY : 0,
				   &stored_sum, &stored_n, err))
		return false;
	sum = j->satvb;
	cnt = 1;
	sum += stored_sum;
	cnt += (double)stored_n;
	j->ma_satvb = sum / cnt;
	return true;
}

static uint64_t since_update_of(const char *scid, void *arg)
{
	struct fee_job *j = arg;
	const struct chan_prep *c = u64map_get(j->prep, scid_key(scid));

	return c ? c->since_sec : UINT64_MAX;
}

static double in_value_of(const char *scid, void *arg)
{
	struct fee_job *j = arg;
	const struct chan_prep *c = u64map_get(j->prep, scid_key(scid));

	return c ? c->in_value_ppm : 0;
}

/* Per active channel: where its observation window starts (its last fee
 * update; the whole history for a fresh or unreadable state; nothing
 * counts for a channel @only_scid leaves out) and what liquidity
 * returned to it is worth, from its live fee and balance. */
static void load_preps(struct fee_job *j, const char *only_scid)
{
	struct fee_ctl_state *st = xmalloc(sizeof(*st));

	j->prep = u64map_new();
	j->preps = xzalloc(sizeof(*j->preps) * (j->v->nchans + 1));
	for (size_t i = 0; i < j->v->nchans; i++) {
		const struct chan_info *ci = &j->v->chans[i];
		struct chan_prep *c = &j->preps[i];
		uint64_t k = scid_key(ci->scid);
		char *err = NULL;
		bool found;
		if (!ci->active || !k)
			continue;
		c->in_value_ppm = fee_ctl_liquidity_value_ppm(
		    &j->p, ci->fee_ppm, ci->to_us_msat / 1000,
		    ci->capacity_msat / 1000);
		c->since_sec = UINT64_MAX;
		u64map_put(j->prep, k, c);
		if (only_scid && strcmp(ci->scid, only_scid))
			continue;
		/* decide_one reads it again and reports a problem. */
		c->since_sec = 0;
		if (fee_state_load(j->r, ci->scid, ci->channel_id, st, &found,
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
static bool fee_prepare(struct fee_job *j, const char *only_scid, char **err)
{
	uint64_t now = j->now,
		 wdays = (uint64_t)cfg_i(&j->r->cfg, CFG_FLOW_WINDOW_DAYS);
	struct fwd_stats_spec spec = {.nwin = FEE_NWIN,
				      .chan_since = since_update_of,
				      .chan_since_arg = j,
				      .in_value_ppm = in_value_of,
				      .in_value_arg = j,
				      .now_sec = now,
				      .only_scid = only_scid};
	const char **ids = xmalloc(sizeof(*ids) * (j->v->nchans + 1));

	spec.since_sec[FEE_W_ALL] = 0;
	spec.since_sec[FEE_W_30D] = now > 30 * DAY ? now - 30 * DAY : 0;
	spec.since_sec[FEE_W_7D] = now > 7 * DAY ? now - 7 * DAY : 0;
	spec.since_sec[FEE_W_1D] = now > DAY ? now - DAY : 0;
	spec.since_sec[FEE_W_FLOW] = now > wdays * DAY ? now - wdays * DAY : 0;
	j->peer_first = xmalloc(sizeof(size_t) * (j->v->nchans + 1));
	j->peer_next = xmalloc(sizeof(size_t) * (j->v->nchans + 1));
	for (size_t i = 0; i < j->v->nchans; i++)
		ids[i] = j->v->chans[i].peer_id;
	peers_group(ids, j->v->nchans, j->peer_first, j->peer_next);
	free(ids);
	load_preps(j, only_scid);
	return forwards_stats_new(j->r, &spec, &j->fs, err);
}

static const char *fee_block_reason(struct revenue *r)
{
	if (cfg_b(&r->cfg, CFG_DRY_RUN))
		return "dry_run";
	if (!cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED))
		return "fee_authority_disabled";
	if (cfg_b(&r->cfg, CFG_PAUSED))
		return "paused";
	return NULL;
}

/* ---- the cycle: act and persist ---- */

static void cycle_finish(struct fee_job *j, const char *error);

static const char *source_of(enum fee_ctl_class cls)
{
	return cls == FEE_CLASS_POLICY ? "policy" : "controller";
}

/* A dry-run (or unauthorised) proposal is recorded once, not every
 * cycle: while the live fee stays the same, a channel gets a new row only
 * for a different proposal made at least 6 hours after the last one (a
 * sampled fee differs a little every cycle; the live decision is always
 * in revenue-fee-debug). */
static bool already_proposed(struct fee_job *j, const struct fee_item *it,
			     char **err)
{
	struct fee_change_latest last;

	if (!fee_change_latest(j->r, it->ci->scid, &last, err))
		return false;
	return last.found && last.old_fee_ppm == it->old_fee &&
	       last.applied == 0 &&
	       (last.new_fee_ppm == it->new_fee ||
		last.timestamp + 6 * 3600 > j->now);
}

static bool persist_item(struct fee_job *j, struct fee_item *it, char **err)
{
	struct revenue *r = j->r;
	const struct chan_info *ci = it->ci;
	char *reason;
	bool ok = true;

	if (!it->decided)
		return true;
	if (!j->live) {
		if (it->action != FEE_CTL_SET)
			return true;
		if (already_proposed(j, it, err))
			return true;
		if (*err)
			return false;
		reason = xfmt("not applied (%s): %s", j->block,
			      fee_ctl_step_name(it->decided_by));
		ok = fee_change_record(
		    r, ci->scid, ci->peer_id, it->old_fee, it->new_fee,
		    it->old_base, it->new_base, reason,
		    it->reason ? it->reason : "", source_of(it->cls), false,
		    !strcmp(j->block, "dry_run"), false, j->now, err);
		free(it->blob);
		it->blob = NULL;
		free(reason);
		return ok;
	}
	if (it->action == FEE_CTL_SET && !it->sent_ok)
		return true; /* keep the old state: nothing changed */
	if (it->blob) {
		/* lightningd may have adjusted what we asked for: remember
		 * what is really on the channel, so the next cycle does not
		 * mistake it for someone else's change. */
		if (it->action == FEE_CTL_SET && it->actual_fee >= 0 &&
		    it->actual_fee != it->new_fee) {
			struct fee_ctl_state *st = xmalloc(sizeof(*st));
			if (!fee_ctl_state_deserialise(st, it->blob,
						       it->blob_len)) {
				st->last_set_fee_ppm = it->actual_fee;
				free(it->blob);
				it->blob =
				    fee_state_serialise(st, &it->blob_len);
			}
			free(st);
			it->new_fee = it->actual_fee;
		}
		if (!fee_state_save_blob(r, ci->scid, ci->channel_id,
					 ci->peer_id, it->blob, it->blob_len,
					 j->now, err))
			return false;
	}
	if (it->action == FEE_CTL_SET) {
		reason = xfmt("%s: %s (floor %lld, ceiling %lld)",
			      fee_ctl_step_name(it->decided_by),
			      it->reason ? it->reason : "",
			      (long long)it->floor, (long long)it->ceiling);
		ok = fee_change_record(r, ci->scid, ci->peer_id, it->old_fee,
				       it->new_fee, it->old_base, it->new_base,
				       reason, it->reason ? it->reason : "",
				       source_of(it->cls), false, false, true,
				       j->now, err);
		free(reason);
	} else if (it->action == FEE_CTL_ADOPT_EXTERNAL) {
		ok = fee_change_record(
		    r, ci->scid, ci->peer_id, it->old_fee, it->new_fee,
		    it->old_base, it->new_base,
		    "fee changed outside the controller (operator or "
		    "CLBOSS): adopted and held, not fought",
		    "external_fee_adopted", "external", false, false, true,
		    j->now, err);
	}
	return ok;
}

static void persist_all(struct fee_job *j)
{
	struct revenue *r = j->r;
	char *err = NULL;

	if (!store_begin(r->db, &err))
		goto fail;
	for (size_t i = 0; i < j->n; i++)
		if (!persist_item(j, &j->items[i], &err))
			goto rollback;
	for (size_t i = 0; i < j->nunmanage; i++)
		if (j->unmanaged_ok && j->unmanaged_ok[i] &&
		    !clboss_record(r, j->unmanage[i], CLBOSS_FEE_TAGS, j->now,
				   &err))
			goto rollback;
	if (j->have_sample &&
	    !mempool_sample_record(r, j->now, j->satvb,
				   j->now > 2 * DAY ? j->now - 2 * DAY : 0,
				   &err))
		goto rollback;
	/* Anchors are read as of now; an expired one is deleted here, on
	 * the cycle's write, never by a read. */
	{
		uint64_t purged;
		if (!fee_anchor_purge(r->db, j->now, &purged, &err))
			goto rollback;
	}
	if (store_commit(r->db, &err)) {
		cycle_finish(j, NULL);
		return;
	}
rollback:
	store_rollback(r->db);
fail:
	/* Nothing of this cycle is stored: the next one decides again from
	 * the last good state (a fee that was set is then adopted). */
	{
		char *e = xfmt("storing the fee cycle: %s", err);
		free(err);
		cycle_finish(j, e);
		free(e);
	}
}

static void send_more(struct fee_job *j);

struct send_ctx {
	struct fee_job *j;
	size_t idx;
};

static void setchannel_reply(struct rpc *rpc, const struct rpc_reply *reply,
			     void *arg)
{
	struct send_ctx *s = arg;
	struct fee_job *j = s->j;
	struct fee_item *it = &j->items[s->idx];

	free(s);
	j->inflight--;
	if (reply->error) {
		it->error = rpc_reply_errtext(reply);
		it->outcome = "setchannel_failed";
		plugin_log(j->r->plugin, PLOG_WARN,
			   "fees: %s: %s: channel skipped, its state kept",
			   it->ci->scid, it->error);
	} else {
		const json_t *ch = json_array_get(
		    json_object_get(reply->result, "channels"), 0);
		int64_t v;
		it->sent_ok = true;
		it->outcome = "applied";
		it->actual_fee = -1;
		if (json_get_i64(ch, "fee_proportional_millionths", &v)) {
			it->actual_fee = v;
			if (v != it->new_fee)
				plugin_log(j->r->plugin, PLOG_WARN,
					   "fees: %s: asked for %lld ppm, "
					   "lightningd set %lld",
					   it->ci->scid, (long long)it->new_fee,
					   (long long)v);
		}
		plugin_log(j->r->plugin, PLOG_INFO,
			   "fees: %s %lld -> %lld ppm (%s: %s)", it->ci->scid,
			   (long long)it->old_fee,
			   (long long)(it->actual_fee >= 0 ? it->actual_fee
							   : it->new_fee),
			   fee_ctl_step_name(it->decided_by),
			   it->reason ? it->reason : "");
	}
	send_more(j);
	(void)rpc;
}

static void send_more(struct fee_job *j)
{
	struct rpc *rpc = plugin_rpc(j->r->plugin);

	/* A reply completed synchronously (lightningd gone, shutting down)
	 * calls back in here from inside rpc_call: let the outer loop carry
	 * on instead of recursing (and finishing the job under it). */
	if (j->in_send) {
		j->send_again = true;
		return;
	}
	j->in_send = true;
	do {
		j->send_again = false;
		while (j->inflight < SETCHANNEL_PARALLEL &&
		       j->next_send < j->n) {
			struct fee_item *it = &j->items[j->next_send];
			struct send_ctx *s;
			if (!it->send || it->clboss_blocked) {
				j->next_send++;
				continue;
			}
			s = xzalloc(sizeof(*s));
			s->j = j;
			s->idx = j->next_send++;
			j->inflight++;
			rpc_call(rpc, NULL, "setchannel",
				 json_pack("{s:s,s:I,s:I}", "id", it->ci->scid,
					   "feebase", (json_int_t)it->new_base,
					   "feeppm", (json_int_t)it->new_fee),
				 setchannel_reply, s);
		}
	} while (j->send_again);
	j->in_send = false;
	if (j->inflight == 0 && j->next_send >= j->n && !j->finished) {
		j->finished = true;
		persist_all(j);
	}
}

static void unmanaged(struct revenue *r, const bool *ok, void *arg)
{
	struct fee_job *j = arg;

	j->unmanaged_ok = xzalloc(sizeof(bool) * (j->nunmanage + 1));
	memcpy(j->unmanaged_ok, ok, sizeof(bool) * j->nunmanage);
	for (size_t i = 0; i < j->n; i++) {
		struct fee_item *it = &j->items[i];
		if (!it->send)
			continue;
		for (size_t k = 0; k < j->nunmanage; k++)
			if (!strcmp(j->unmanage[k], it->ci->peer_id) &&
			    !ok[k]) {
				it->clboss_blocked = true;
				it->outcome = "clboss_unmanage_failed";
			}
	}
	send_more(j);
	(void)r;
}

static void clboss_detected(struct revenue *r, bool present, void *arg)
{
	struct fee_job *j = arg;
	size_t cap = 0;

	if (!present) {
		send_more(j);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		bool dup = false;
		if (!j->items[i].send)
			continue;
		for (size_t k = 0; k < j->nunmanage && !dup; k++)
			dup = !strcmp(j->unmanage[k], j->items[i].ci->peer_id);
		if (dup)
			continue;
		xgrow(&j->unmanage, &cap, j->nunmanage + 1,
		      sizeof(*j->unmanage));
		j->unmanage[j->nunmanage++] = xstrdup(j->items[i].ci->peer_id);
	}
	clboss_unmanage_peers(r, NULL, j->unmanage, j->nunmanage, unmanaged, j);
}

static void record_last(struct fee_job *j, const struct fee_item *it)
{
	struct fee_last l = {0};

	l.time_sec = j->now;
	snprintf(l.scid, sizeof(l.scid), "%s", it->ci->scid);
	snprintf(l.peer_id, sizeof(l.peer_id), "%s", it->ci->peer_id);
	l.action = it->action;
	l.cls = it->cls;
	l.decided_by = it->decided_by;
	l.reason = it->reason;
	l.skip_reason = it->skip_reason;
	l.outcome = it->outcome;
	l.old_fee_ppm = it->old_fee;
	l.new_fee_ppm = it->new_fee;
	l.floor_ppm = it->floor;
	l.ceiling_ppm = it->ceiling;
	l.time_intensity = it->decided ? it->time_intensity : NAN;
	if (it->error)
		snprintf(l.error, sizeof(l.error), "%s", it->error);
	pipeline_set_fee_last(j->r, &l);
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

/* The cycle ends once what it publishes is written, so whoever waits for
 * it (revenue-cycle, the simulator's tick) reads the new values. */
static void cycle_published(struct revenue *r, void *arg)
{
	cycle_done(arg, NULL);
	pipeline_fee_finished(r);
}

static void cycle_finish(struct fee_job *j, const char *error)
{
	struct revenue *r = j->r;
	struct cycle *c = j->c;
	struct fee_cycle_summary *s = &r->pipe->summary;
	unsigned by_step[FEE_STEP_NUM] = {0};
	const char *by_reason[FEE_STEP_NUM] = {0};
	unsigned best = 0;

	memset(s, 0, sizeof(*s));
	s->time_sec = j->now;
	s->safety_block = j->block;
	s->action = "no_change";
	for (size_t i = 0; i < j->n; i++) {
		struct fee_item *it = &j->items[i];
		if (!it->decided) {
			s->errors++;
			record_last(j, it);
			continue;
		}
		s->evaluated++;
		by_step[it->decided_by]++;
		by_reason[it->decided_by] = it->reason;
		if (!j->live) {
			if (it->action == FEE_CTL_SET)
				s->would_change++;
		} else if (it->action == FEE_CTL_SET) {
			if (it->sent_ok)
				s->changed++;
			else
				s->failed++;
		} else if (it->action == FEE_CTL_ADOPT_EXTERNAL) {
			s->adopted++;
		} else if (it->skip_reason &&
			   !strcmp(it->skip_reason, "external_hold")) {
			s->held++;
		} else {
			s->unchanged++;
		}
		record_last(j, it);
	}
	if (s->changed || s->would_change)
		s->action = "set";
	else if (s->adopted)
		s->action = "adopt_external";
	for (size_t i = 0; i < FEE_STEP_NUM; i++)
		if (by_step[i] > best) {
			best = by_step[i];
			s->dominant_step = fee_ctl_step_name(i);
			s->dominant_reason = by_reason[i];
		}
	plugin_log(r->plugin, PLOG_DEBUG,
		   "fees: %u channels: %u changed, %u adopted, %u held, %u "
		   "unchanged, %u failed, %u not sent%s%s",
		   s->evaluated, s->changed, s->adopted, s->held, s->unchanged,
		   s->failed, s->would_change, j->block ? ": " : "",
		   j->block ? j->block : "");
	job_free(j);
	if (!error && r->db) {
		publish_after_fee_cycle(r, s->time_sec, cycle_published, c);
		return;
	}
	cycle_done(c, error);
	pipeline_fee_finished(r);
}

static void fee_gathered(struct revenue *r, struct node_view *v,
			 const char *gerr, void *arg)
{
	struct fee_job *j = arg;
	struct fee_ctl_state *st;
	struct fee_ctl_decision *d;
	char *err = NULL;

	if (gerr || !r->db) {
		char *e = xfmt("gather: %s", gerr ? gerr : "database closed");
		node_view_free(v);
		cycle_finish(j, e);
		free(e);
		return;
	}
	j->v = v;
	j->now = clock_wall_sec(plugin_clock(r->plugin));
	params_fee_ctl(&r->cfg, &j->p);
	j->block = fee_block_reason(r);
	j->live = j->block == NULL;
	if (!policy_load_all(r, j->now, &j->pols, &j->npols, &err) ||
	    !mempool_stats(j, &err)) {
		cycle_finish(j, err);
		free(err);
		return;
	}
	j->items = xzalloc(sizeof(*j->items) * (v->nchans + 1));
	st = xmalloc(sizeof(*st));
	d = xmalloc(sizeof(*d));
	/* The per-channel reads of the decisions under one read transaction
	 * (the database's locks once per cycle, not per statement). */
	if (!store_batch_begin(r->db, &err)) {
		free(st);
		free(d);
		cycle_finish(j, err);
		free(err);
		return;
	}
	if (!fee_prepare(j, NULL, &err)) {
		char *e2 = NULL;
		if (!store_batch_end(r->db, &e2))
			free(e2);
		free(st);
		free(d);
		cycle_finish(j, err);
		free(err);
		return;
	}
	for (size_t i = 0; i < v->nchans; i++) {
		const struct chan_info *ci = &v->chans[i];
		struct fee_item *it;
		const char *eng;

		if (!ci->active)
			continue;
		it = &j->items[j->n++];
		it->ci = ci;
		it->actual_fee = -1;
		it->old_fee = it->new_fee = ci->fee_ppm;
		it->old_base = it->new_base = (int64_t)ci->fee_base_msat;
		if (!decide_one(j, ci, st, d, &r->rng, NULL, &eng, &err)) {
			char *e2 = NULL;
			if (!store_batch_end(r->db, &e2))
				free(e2);
			free(st);
			free(d);
			j->n--;
			cycle_finish(j, err);
			free(err);
			return;
		}
		if (eng) {
			it->outcome = "error";
			it->error = xstrdup(eng);
			plugin_log(r->plugin, PLOG_WARN, "fees: %s skipped: %s",
				   ci->scid, eng);
			continue;
		}
		it->decided = true;
		it->action = d->action;
		it->cls = d->cls;
		it->decided_by = d->decided_by;
		it->reason = d->reason;
		it->skip_reason = d->skip_reason;
		it->floor = d->floor_ppm;
		it->ceiling = d->ceiling_ppm;
		it->new_fee = d->fee_ppm;
		it->new_base = d->base_fee_msat;
		it->time_intensity =
		    fee_ctl_step_num(d, FEE_STEP_THOMPSON, "time_intensity");
		if (!j->live) {
			it->outcome = j->block;
			if (d->action == FEE_CTL_SET)
				plugin_log(r->plugin, PLOG_INFO,
					   "fees: %s would go %lld -> %lld ppm "
					   "(%s: %s); not sent: %s",
					   ci->scid, (long long)it->old_fee,
					   (long long)it->new_fee,
					   fee_ctl_step_name(d->decided_by),
					   d->reason ? d->reason : "",
					   j->block);
			continue;
		}
		it->blob = fee_state_serialise(st, &it->blob_len);
		if (d->action == FEE_CTL_SET) {
			it->send = true;
			it->outcome = "pending";
		} else if (d->action == FEE_CTL_ADOPT_EXTERNAL) {
			it->outcome = "adopted";
			plugin_log(
			    r->plugin, PLOG_INFO,
			    "fees: %s: fee changed outside the "
			    "controller to %lld ppm (was %lld when we "
			    "last set it): adopted, holding instead "
			    "of fighting",
			    ci->scid, (long long)ci->fee_ppm,
			    (long long)fee_ctl_step_num(d, FEE_STEP_EXTERNAL,
							"last_set_fee_ppm"));
		} else {
			it->outcome = "no_change";
		}
	}
	free(st);
	free(d);
	if (!store_batch_end(r->db, &err)) {
		cycle_finish(j, err);
		free(err);
		return;
	}
	if (j->live && cfg_b(&r->cfg, CFG_CLBOSS_ENABLED)) {
		bool any = false;
		for (size_t i = 0; i < j->n && !any; i++)
			any = j->items[i].send;
		if (any) {
			clboss_detect(r, NULL, clboss_detected, j);
			return;
		}
	}
	send_more(j);
}

static void fee_synced(struct revenue *r, bool ok, void *arg)
{
	(void)r;
	(void)ok;
	gather_priced(arg, fee_gathered);
}

void fee_cycle_run(struct revenue *r, struct cycle *c)
{
	struct fee_job *j = xzalloc(sizeof(*j));
	j->r = r;
	j->c = c;
	forwards_sync(r, fee_synced, j);
}

/* ---- revenue-fee-debug ---- */

static const char *debug_status(const struct fee_ctl_decision *d)
{
	if (d->action != FEE_CTL_NO_CHANGE)
		return "ready";
	if (!d->skip_reason)
		return "ready";
	if (!strcmp(d->skip_reason, "waiting_time") ||
	    !strcmp(d->skip_reason, "waiting_forwards"))
		return "waiting";
	if (!strcmp(d->skip_reason, "external_hold"))
		return "held";
	if (str_starts_with(d->skip_reason, "policy_"))
		return "policy";
	return "ready";
}

static void debug_gathered(struct revenue *r, struct node_view *v,
			   const char *gerr, void *arg)
{
	struct fee_job *j = arg;
	struct command *cmd = j->cmd;
	struct fee_ctl_state *st;
	struct fee_ctl_decision *d;
	json_t *chans, *res, *summary;
	unsigned n = 0, waiting_time = 0, waiting_forwards = 0, ready = 0,
		 held = 0, policy = 0, changes = 0;
	bool matched = false;
	const char *only_scid = NULL;
	char *err = NULL;

	if (gerr) {
		node_view_free(v);
		command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", gerr);
		job_free(j);
		return;
	}
	j->v = v;
	j->now = clock_wall_sec(plugin_clock(r->plugin));
	params_fee_ctl(&r->cfg, &j->p);
	j->block = fee_block_reason(r);
	if (!policy_load_all(r, j->now, &j->pols, &j->npols, &err) ||
	    !mempool_stats(j, &err)) {
		command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
		free(err);
		job_free(j);
		return;
	}
	/* One channel asked for: only its forwards are read. */
	for (size_t i = 0; i < v->nchans && j->only[0] && !only_scid; i++)
		if (!strcmp(v->chans[i].scid, j->only) ||
		    !strcmp(v->chans[i].channel_id, j->only))
			only_scid = v->chans[i].scid;
	if ((!j->only[0] || only_scid) && !fee_prepare(j, only_scid, &err)) {
		command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
		free(err);
		job_free(j);
		return;
	}
	/* Fork: the preview draws its own numbers, leaving the plugin's
	 * sequence (and so the next real cycle) exactly as it was. */
	rng_fork(&r->rng, j->now, &j->rng);
	chans = json_array();
	st = xmalloc(sizeof(*st));
	d = xmalloc(sizeof(*d));
	for (size_t i = 0; i < v->nchans; i++) {
		const struct chan_info *ci = &v->chans[i];
		const struct fee_last *last;
		const char *eng;
		json_t *o, *stored = NULL;
		double hours;

		if (j->only[0] && strcmp(ci->scid, j->only) &&
		    strcmp(ci->channel_id, j->only))
			continue;
		matched = true;
		if (!ci->active)
			continue;
		if (!decide_one(j, ci, st, d, &j->rng, &stored, &eng, &err)) {
			json_decref(chans);
			command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
			free(err);
			goto out;
		}
		n++;
		o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "channel_id",
			      ci->scid, "full_channel_id", ci->channel_id,
			      "peer_id", ci->peer_id, "state", ci->state,
			      "live_fee_ppm", (json_int_t)ci->fee_ppm,
			      "live_base_msat", (json_int_t)ci->fee_base_msat,
			      "dry_run", cfg_b(&r->cfg, CFG_DRY_RUN));
		/* The state as stored, before this preview's step. */
		json_object_set_new(o, "state", stored);
		if (eng) {
			json_object_set_new(o, "status", json_string("error"));
			json_object_set_new(o, "error", json_string(eng));
			json_array_append_new(chans, o);
			continue;
		}
		{
			json_int_t lu = json_integer_value(
			    json_object_get(stored, "last_update"));
			hours = lu > 0 && j->now > (uint64_t)lu
				    ? (double)(j->now - (uint64_t)lu) / 3600.0
				    : 0;
		}
		json_object_set_new(o, "status", json_string(debug_status(d)));
		json_object_set_new(o, "skip_reason",
				    d->skip_reason ? json_string(d->skip_reason)
						   : json_null());
		json_object_set_new(o, "is_sleeping", json_false());
		json_object_set_new(o, "hours_since_update", json_real(hours));
		{
			double wf = fee_ctl_step_num(d, FEE_STEP_THOMPSON,
						     "window_forwards");
			json_object_set_new(
			    o, "forwards_since_update",
			    json_integer(isfinite(wf) ? (json_int_t)wf : 0));
		}
		json_object_set_new(o, "last_broadcast_fee_ppm",
				    stored ? json_incref(json_object_get(
						 stored, "last_set_fee_ppm"))
					   : json_null());
		json_object_set_new(
		    o, "last_revenue_rate",
		    stored ? json_incref(json_object_get(
				 stored, "ema_revenue_sat_per_hour"))
			   : json_null());
		json_object_set_new(
		    o, "would_apply",
		    json_boolean(d->action == FEE_CTL_SET && !j->block));
		if (j->block)
			json_object_set_new(o, "not_applied_because",
					    json_string(j->block));
		json_object_set_new(o, "decision", fee_decision_json(d));
		last = pipeline_fee_last(r, ci->scid);
		if (last) {
			json_t *lc = json_pack(
			    "{s:I,s:s,s:s,s:s,s:s?,s:s,s:I,s:I,s:s?}", "time",
			    (json_int_t)last->time_sec, "action",
			    fee_ctl_action_name(last->action), "decided_by",
			    fee_ctl_step_name(last->decided_by), "reason",
			    last->reason ? last->reason : "", "skip_reason",
			    last->skip_reason, "outcome",
			    last->outcome ? last->outcome : "", "old_fee_ppm",
			    (json_int_t)last->old_fee_ppm, "new_fee_ppm",
			    (json_int_t)last->new_fee_ppm, "error",
			    last->error[0] ? last->error : NULL);
			json_object_set_new(
			    lc, "time_intensity",
			    isfinite(last->time_intensity)
				? json_real(last->time_intensity)
				: json_null());
			json_object_set_new(o, "last_cycle", lc);
		}
		json_object_set_new(o, "recent_fee_changes",
				    fee_changes_recent(r, ci->scid, 5));
		if (d->action != FEE_CTL_NO_CHANGE)
			changes++;
		if (d->skip_reason && !strcmp(d->skip_reason, "waiting_time"))
			waiting_time++;
		else if (d->skip_reason &&
			 !strcmp(d->skip_reason, "waiting_forwards"))
			waiting_forwards++;
		else if (!strcmp(debug_status(d), "held"))
			held++;
		else if (!strcmp(debug_status(d), "policy"))
			policy++;
		else
			ready++;
		json_array_append_new(chans, o);
	}
	if (j->only[0] && !matched) {
		json_decref(chans);
		command_fail(cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "channel_id", j->only),
			     "Unknown channel %s", j->only);
		goto out;
	}
	summary = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "total", n,
			    "sleeping", 0, "waiting_time", waiting_time,
			    "waiting_forwards", waiting_forwards, "held", held,
			    "policy", policy, "ready", ready, "would_change",
			    changes);
	res = json_pack(
	    "{s:I,s:{s:I,s:f,s:I,s:f,s:b},s:o,s:o,s:b,s:b,s:s?}", "timestamp",
	    (json_int_t)j->now, "config", "fee_interval_seconds",
	    (json_int_t)cfg_i(&r->cfg, CFG_FEE_INTERVAL),
	    "min_observation_hours", j->p.min_observation_sec / 3600.0,
	    "min_forwards_for_signal", (json_int_t)j->p.min_forwards_for_signal,
	    "max_observation_hours", j->p.max_observation_sec / 3600.0,
	    "enable_dynamic_windows", true, "channels", chans, "summary",
	    summary, "dry_run", cfg_b(&r->cfg, CFG_DRY_RUN),
	    "fee_authority_enabled", cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED),
	    "not_applied_because", j->block);
	json_object_set_new(
	    res, "controller_contract",
	    json_pack("{s:s,s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s]}", "algorithm",
		      "thompson_aimd_v1", "stage_order", "policy", "external",
		      "bounds", "congestion", "vegas", "probe", "fire_sale",
		      "thompson", "cold_start", "scarcity", "min_change",
		      "hysteresis", "idempotent", "refresh"));
	if (r->pipe->summary.time_sec)
		json_object_set_new(res, "last_cycle_decision",
				    fee_cycle_summary_json(&r->pipe->summary));
	command_ok(cmd, res);
out:
	free(st);
	free(d);
	job_free(j);
}

void fee_debug_start(struct revenue *r, struct command *cmd,
		     const char *only_scid)
{
	struct fee_job *j = xzalloc(sizeof(*j));
	j->r = r;
	j->cmd = cmd;
	if (only_scid)
		snprintf(j->only, sizeof(j->only), "%s", only_scid);
	/* Read-only: no forward sync (that writes the store); the store is
	 * at most one notification behind. */
	gather_priced(j, debug_gathered);
}
