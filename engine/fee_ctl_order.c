/* The fee controller's priority order: fee_ctl_step() validates its
 * input, seeds a fresh state, takes one channel through the steps
 * fee_ctl.h lists (each implemented in the file named there) and commits
 * the decision into the state. This file also holds the two steps that
 * decide who owns the fee, POLICY and EXTERNAL.
 *
 * Where this departs from the reference H line, on purpose (the other
 * departures are listed in the file of the step they concern):
 *  - policy, probe and fire-sale fees are not clamped into [min, max]
 *    (defect 3), and the hive fee is applied (defect 4);
 *  - a fresh state is seeded from the evidence (defect 14). */
#include "engine/fee_ctl_internal.h"
#include "engine/market.h"
#include "engine/num.h"
#include <math.h>
#include <string.h>

/* ---- input ---- */

static const char *validate(const struct fee_ctl_params *p,
			    const struct fee_ctl_state *st,
			    const struct fee_ctl_obs *o)
{
	if (p->min_fee_ppm < 0 || p->max_fee_ppm < p->min_fee_ppm)
		return "fee_ctl: min_fee_ppm above max_fee_ppm";
	if (p->max_fee_ppm > p->abs_max_fee_ppm)
		return "fee_ctl: max_fee_ppm above the absolute rail";
	if (o->capacity_sat == 0)
		return "fee_ctl: zero capacity";
	if (o->local_sat > o->capacity_sat)
		return "fee_ctl: local balance above capacity";
	if (o->chain_fee_ppm < 0)
		return "fee_ctl: negative live fee";
	if ((unsigned)o->policy.strategy > FEE_CTL_HIVE)
		return "fee_ctl: unknown policy strategy";
	if (isnan(o->peer_reputation) || isnan(o->peer_uptime_pct) ||
	    isnan(o->peer_hold_avg_sec) || isnan(o->peer_hold_std_sec) ||
	    !isfinite(o->roi) || !isfinite(o->marginal_roi) ||
	    !isfinite(o->feerate_perkb) || !isfinite(o->mempool_satvb) ||
	    !isfinite(o->mempool_ma_satvb) || !isfinite(o->htlc_util) ||
	    isnan(o->time_intensity))
		return "fee_ctl: non-finite observation";
	/* The RPC refuses these; a row that slipped through must not turn
	 * into a fee outside what the operator could have asked for. */
	if (o->anchor_target_ppm >= 0 &&
	    (o->anchor_target_ppm > p->abs_max_fee_ppm ||
	     !(o->anchor_confidence >= 0 && o->anchor_confidence <= 1) ||
	     !(o->anchor_base_weight >= 0 && o->anchor_base_weight <= 1)))
		return "fee_ctl: invalid fee anchor";
	if (st->version > FEE_CTL_STATE_VERSION)
		return "fee_ctl: state from a newer version";
	if (st->n_obs > FEE_CTL_MAX_OBS || st->obs_head >= FEE_CTL_MAX_OBS)
		return "fee_ctl: corrupt state";
	/* A state is only trusted with finite learned numbers (a version 0
	 * state is re-seeded, so its fields do not matter). */
	if (st->version != 0 &&
	    (!isfinite(st->prior_mean_ppm) || !isfinite(st->prior_std_ppm) ||
	     !isfinite(st->ema_revenue_sat_per_hour) ||
	     !(st->aimd_modifier > 0) || !isfinite(st->aimd_modifier) ||
	     !isfinite(st->vegas_intensity) || !isfinite(st->htlc_util_ema)))
		return "fee_ctl: corrupt state";
	for (uint32_t i = 0; st->version != 0 && i < st->n_obs; i++) {
		const struct fee_ctl_obs_rec *rec = obs_at(st, i);
		if (!isfinite(rec->fee_ppm) ||
		    !isfinite(rec->revenue_sat_per_hour) ||
		    !isfinite(rec->weight) || !isfinite(rec->time_sec) ||
		    !(rec->context >= 0 && rec->context < FEE_CTL_NUM_CTX))
			return "fee_ctl: corrupt state";
	}
	return NULL;
}

/* ---- the order ---- */

static uint32_t days_between(uint64_t from, uint64_t to)
{
	uint64_t d;

	if (!from || to <= from)
		return 0;
	d = (to - from) / 86400;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static void finish_skips(struct fee_ctl_run *r)
{
	for (size_t i = 0; i < FEE_STEP_NUM; i++) {
		struct fee_ctl_step_rec *s = &r->d->steps[i];
		if (!s->evaluated && !s->reason) {
			s->reason = "preempted";
			s->preempted_by = r->d->decided_by;
			s->fee_in_ppm = s->fee_out_ppm = r->d->fee_ppm;
		}
	}
}

/* A fresh row is seeded from the evidence (defect 14): the hint (the
 * neighbours' fee), else the live fee unless it is Core Lightning's stock
 * pair, which nobody chose. Passive channels are never touched, not even
 * to seed. */
static void seed_fresh_state(struct fee_ctl_run *r)
{
	const struct fee_ctl_obs *obs = r->o;
	struct fee_ctl_decision *d = r->d;
	int64_t prior = -1;

	if (r->st->version != 0 || obs->policy.strategy == FEE_CTL_PASSIVE)
		return;
	d->seed_from = "default";
	if (obs->prior_hint_ppm >= 0) {
		prior = obs->prior_hint_ppm;
		d->seed_from = "neighbour_median";
	} else if (obs->chain_fee_ppm > 0 &&
		   !market_is_stock_fee((uint64_t)obs->chain_base_msat,
					(uint64_t)obs->chain_fee_ppm)) {
		prior = obs->chain_fee_ppm;
		d->seed_from = "live_fee";
	}
	fee_ctl_state_init(r->p, r->st, prior);
	d->seed_prior_ppm = r->st->prior_mean_ppm;
}

/* POLICY. Returns true when the policy ends the decision (passive, or a
 * static policy without a target). */
static bool policy_step(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *obs = r->o;
	struct fee_ctl_decision *d = r->d;
	enum fee_ctl_strategy strat = obs->policy.strategy;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_POLICY);

	note(s, "strategy", strat);
	note(s, "target_ppm", (double)obs->policy.fee_ppm_target);
	switch (strat) {
	case FEE_CTL_PASSIVE:
		s->applied = true;
		s->reason = "passive";
		step_decide(r, FEE_STEP_POLICY, "passive");
		d->skip_reason = "policy_passive";
		return true;
	case FEE_CTL_STATIC:
		if (obs->policy.fee_ppm_target < 0) {
			/* Rejected at `revenue-policy set` (defect 37); if
			 * one slips through, hold rather than silently
			 * turning dynamic. */
			s->applied = true;
			s->reason = "static_no_target";
			step_decide(r, FEE_STEP_POLICY, s->reason);
			d->skip_reason = "policy_static";
			return true;
		}
		r->fee = clampi(obs->policy.fee_ppm_target, 0,
				p->abs_max_fee_ppm);
		s->reason = "static_target";
		r->policy = true;
		break;
	case FEE_CTL_HIVE:
		r->fee = clampi(p->hive_fee_ppm, 0, p->abs_max_fee_ppm);
		s->reason = "hive_fee";
		r->policy = true;
		break;
	case FEE_CTL_DYNAMIC:
		s->reason = "dynamic";
		r->dynamic = true;
		break;
	}
	if (r->policy) {
		s->applied = true;
		r->cls = FEE_CLASS_POLICY;
		d->enforce_limits = false; /* defects 3 and 4 */
		step_decide(r, FEE_STEP_POLICY, s->reason);
	}
	step_end(r, s);
	return false;
}

/* EXTERNAL. Returns true when someone else's fee ends the decision
 * (adopted now, or still held). */
static bool external_step(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *obs = r->o;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_decision *d = r->d;
	uint64_t now = r->now;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_EXTERNAL);

	note(s, "last_set_fee_ppm", (double)st->last_set_fee_ppm);
	note(s, "live_fee_ppm", (double)obs->chain_fee_ppm);
	note(s, "last_set_base_msat", (double)st->last_set_base_msat);
	note(s, "live_base_msat", (double)obs->chain_base_msat);
	if (st->last_set_fee_ppm >= 0 &&
	    (obs->chain_fee_ppm != st->last_set_fee_ppm ||
	     (p->base_fee_msat >= 0 && st->last_set_base_msat >= 0 &&
	      obs->chain_base_msat != st->last_set_base_msat))) {
		/* Someone else set this fee. Adopt it as ours instead of
		 * fighting, and leave it alone for a while. */
		fee_ctl_state_adopt(st, obs->chain_fee_ppm,
				    obs->chain_base_msat, now);
		s->applied = true;
		s->reason = "external_fee_adopted";
		r->fee = r->current;
		r->cls = FEE_CLASS_EXTERNAL;
		d->action = FEE_CTL_ADOPT_EXTERNAL;
		d->cls = FEE_CLASS_EXTERNAL;
		d->fee_ppm = r->current;
		d->base_fee_msat = obs->chain_base_msat;
		step_decide(r, FEE_STEP_EXTERNAL, s->reason);
		step_end(r, s);
		return true;
	}
	if (st->external_adopted_sec &&
	    now < st->external_adopted_sec + p->external_hold_sec) {
		note(s, "hold_until_sec",
		     (double)(st->external_adopted_sec + p->external_hold_sec));
		s->applied = true;
		s->reason = "external_hold";
		r->fee = r->current;
		d->cls = FEE_CLASS_EXTERNAL;
		d->skip_reason = "external_hold";
		step_decide(r, FEE_STEP_EXTERNAL, s->reason);
		step_end(r, s);
		return true;
	}
	s->reason = st->last_set_fee_ppm >= 0 ? "in_sync" : "no_history";
	step_end(r, s);
	return false;
}

/* The pricing steps of a dynamic channel, each pre-empting the ones after
 * it once it decides. */
static void price_dynamic(struct fee_ctl_run *r)
{
	fee_ctl_observe(r);
	fee_ctl_vegas(r);
	fee_ctl_bounds(r);
	fee_ctl_congestion(r);
	if (!r->decided)
		fee_ctl_probe(r);
	if (!r->decided)
		fee_ctl_fire_sale(r);
	if (!r->decided) {
		fee_ctl_thompson(r);
		if (!r->waiting)
			fee_ctl_cold_start(r);
		fee_ctl_scarcity(r);
	}
	if (r->cls != FEE_CLASS_PROBE && r->cls != FEE_CLASS_FIRE_SALE)
		r->d->enforce_limits = true;
	else
		r->d->enforce_limits = false; /* defect 3 */
}

/* A policy fee is exact: none of the pricing steps runs. */
static void skip_pricing(struct fee_ctl_run *r)
{
	static const char *const why = "policy_fee";

	step_skip(r, FEE_STEP_BOUNDS, why);
	step_skip(r, FEE_STEP_CONGESTION, why);
	step_skip(r, FEE_STEP_VEGAS, why);
	step_skip(r, FEE_STEP_PROBE, why);
	step_skip(r, FEE_STEP_FIRE_SALE, why);
	step_skip(r, FEE_STEP_THOMPSON, why);
	step_skip(r, FEE_STEP_COLD_START, why);
	step_skip(r, FEE_STEP_SCARCITY, why);
}

/* The decision into the state: a set is the new broadcast; a closed
 * window records its observation and starts the next. */
static void commit(struct fee_ctl_run *r)
{
	const struct fee_ctl_obs *obs = r->o;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_decision *d = r->d;
	uint64_t now = r->now;

	d->fee_ppm = r->fee;
	d->cls = r->cls;
	d->base_fee_msat = r->base;
	if (d->action == FEE_CTL_SET) {
		r->close_window = true;
		d->skip_reason = NULL;
		st->last_set_fee_ppm = r->fee;
		st->last_set_base_msat = r->base;
		st->last_broadcast_sec = now;
		st->pending_target_ppm = -1;
	} else {
		d->fee_ppm = r->current;
		d->base_fee_msat = obs->chain_base_msat;
	}
	if (d->action == FEE_CTL_SET || r->idempotent)
		st->last_class = r->cls;
	if (r->close_window) {
		/* Probe and fire-sale fees are artificial: a window spent at
		 * one says nothing about the revenue curve. */
		if (r->dynamic && r->have_obs &&
		    r->old_class != FEE_CLASS_PROBE &&
		    r->old_class != FEE_CLASS_FIRE_SALE)
			fee_ctl_record_observation(r);
		st->last_update_sec = now;
		st->aimd_seen_failures = 0;
		st->aimd_seen_forwards = 0;
	}
	if (r->first_run && r->dynamic && st->last_update_sec == 0)
		st->last_update_sec = now;
}

const char *fee_ctl_step(const struct fee_ctl_params *p,
			 struct fee_ctl_state *st,
			 const struct fee_ctl_obs *obs, uint64_t now,
			 struct rng *rng, struct fee_ctl_decision *d)
{
	struct fee_ctl_run r = {.p = p, .st = st, .o = obs, .now = now,
				.rng = rng, .d = d};
	bool suppressed;
	const char *err;

	memset(d, 0, sizeof(*d));
	d->action = FEE_CTL_NO_CHANGE;
	d->current_fee_ppm = obs->chain_fee_ppm;
	d->fee_ppm = obs->chain_fee_ppm;
	d->base_fee_msat = obs->chain_base_msat;
	d->enforce_limits = true;
	err = validate(p, st, obs);
	if (err) {
		d->reason = "error";
		d->skip_reason = "error";
		return err;
	}
	seed_fresh_state(&r);

	r.old_class = st->last_class;
	r.current = obs->chain_fee_ppm;
	r.fee = r.current;
	r.outbound = (double)obs->local_sat / (double)obs->capacity_sat;
	r.days_open = days_between(obs->opened_sec, now);
	r.days_idle = obs->last_forward_sec
			  ? days_between(obs->last_forward_sec, now)
			  : r.days_open;
	r.virgin = obs->opener == PNL_OPENER_REMOTE &&
		   obs->lifetime_out_count == 0;
	r.base = p->base_fee_msat >= 0 ? p->base_fee_msat
				       : obs->chain_base_msat;

	/* POLICY, EXTERNAL: who owns the fee. */
	if (policy_step(&r)) {
		finish_skips(&r);
		return NULL;
	}
	if (st->last_broadcast_sec == 0)
		st->last_broadcast_sec = now;
	if (external_step(&r)) {
		finish_skips(&r);
		return NULL;
	}

	/* BOUNDS .. SCARCITY: the price. */
	if (r.dynamic)
		price_dynamic(&r);
	else
		skip_pricing(&r);
	r.fee = clampi(r.fee, 0, p->abs_max_fee_ppm);

	/* MIN_CHANGE, HYSTERESIS, IDEMPOTENT, REFRESH: whether to say it. */
	suppressed = fee_ctl_min_change(&r);
	if (suppressed) {
		step_skip(&r, FEE_STEP_HYSTERESIS, "preempted");
		d->steps[FEE_STEP_HYSTERESIS].preempted_by =
		    FEE_STEP_MIN_CHANGE;
	} else {
		suppressed = fee_ctl_hysteresis(&r);
	}
	fee_ctl_idempotent(&r, suppressed);
	/* A policy fee is exact: no refresh nudge. */
	if (r.dynamic)
		fee_ctl_refresh(&r);
	else
		step_skip(&r, FEE_STEP_REFRESH, "policy_fee");

	commit(&r);
	finish_skips(&r);
	return NULL;
}
