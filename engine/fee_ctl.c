/* The fee controller: priority order of policy, safety and emergency
 * rules around Gaussian Thompson sampling + AIMD; see fee_ctl.h.
 *
 * Where this departs from the reference H line, on purpose:
 *  - policy, probe and fire-sale fees are not clamped into [min, max]
 *    (defect 3), and the hive fee is applied (defect 4);
 *  - the Vegas multiplier is applied to the floor (defect 5), decaying
 *    before the spike check (defect 6);
 *  - the chain-cost floor honours the opener (defect 7), and multipliers
 *    touch only the chain-cost term, so min_fee_ppm is never undercut
 *    (defect 8);
 *  - break_even is a real class in the profit adjustment (defect 9);
 *  - hysteresis compares a coarse decision class (defect 10);
 *  - the slot-scarcity threshold is the configured one (defect 11);
 *  - AIMD's additive increase is the documented +5 ppm (defect 12);
 *  - waiting_forwards is a real skip reason (defect 13);
 *  - a fresh state is seeded from the evidence (defect 14);
 *  - per-cycle damping and bounded congestion episodes (defect 15);
 *  - the posterior weighs revenue relative to the channel's own mean
 *    revenue (the reference's absolute "rev / 100 sat/h" saturates on any
 *    busy channel, which then stops learning), and the prior counts as a
 *    pseudo-observation that fades with evidence instead of pulling the
 *    mean toward 200 ppm forever;
 *  - a balance/time context shifts the global mean by a bounded offset
 *    computed from the observations made in it (similarity-weighted, as
 *    the reference's time-similarity and cross-pollination intend, and
 *    shrunk toward the global mean); the spread stays the global one.
 *    The reference's per-context means shrink their std to 10 ppm within
 *    a hundred updates and stop exploring, and fragment the evidence. */
#include "engine/fee_ctl.h"
#include "engine/market.h"
#include "engine/num.h"
#include <math.h>
#include <string.h>

static const char *const step_names[FEE_STEP_NUM] = {
	[FEE_STEP_POLICY] = "policy",
	[FEE_STEP_EXTERNAL] = "external",
	[FEE_STEP_BOUNDS] = "bounds",
	[FEE_STEP_CONGESTION] = "congestion",
	[FEE_STEP_VEGAS] = "vegas",
	[FEE_STEP_PROBE] = "probe",
	[FEE_STEP_FIRE_SALE] = "fire_sale",
	[FEE_STEP_THOMPSON] = "thompson",
	[FEE_STEP_COLD_START] = "cold_start",
	[FEE_STEP_SCARCITY] = "scarcity",
	[FEE_STEP_MIN_CHANGE] = "min_change",
	[FEE_STEP_HYSTERESIS] = "hysteresis",
	[FEE_STEP_IDEMPOTENT] = "idempotent",
	[FEE_STEP_REFRESH] = "refresh",
};

const char *fee_ctl_step_name(enum fee_ctl_step_id s)
{
	if ((unsigned)s < FEE_STEP_NUM)
		return step_names[s];
	return "unknown";
}

const char *fee_ctl_strategy_name(enum fee_ctl_strategy s)
{
	switch (s) {
	case FEE_CTL_DYNAMIC:
		return "dynamic";
	case FEE_CTL_STATIC:
		return "static";
	case FEE_CTL_PASSIVE:
		return "passive";
	case FEE_CTL_HIVE:
		return "hive";
	}
	return "unknown";
}

const char *fee_ctl_class_name(enum fee_ctl_class c)
{
	switch (c) {
	case FEE_CLASS_NONE:
		return "none";
	case FEE_CLASS_NORMAL:
		return "normal";
	case FEE_CLASS_CONGESTION:
		return "congestion";
	case FEE_CLASS_PROBE:
		return "probe";
	case FEE_CLASS_FIRE_SALE:
		return "fire_sale";
	case FEE_CLASS_POLICY:
		return "policy";
	case FEE_CLASS_EXTERNAL:
		return "external";
	}
	return "unknown";
}

const char *fee_ctl_action_name(enum fee_ctl_action a)
{
	switch (a) {
	case FEE_CTL_NO_CHANGE:
		return "no_change";
	case FEE_CTL_SET:
		return "set";
	case FEE_CTL_ADOPT_EXTERNAL:
		return "adopt_external";
	}
	return "unknown";
}

void fee_ctl_params_default(struct fee_ctl_params *p)
{
	*p = (struct fee_ctl_params){
	    .min_fee_ppm = 10,
	    .max_fee_ppm = 5000,
	    .abs_max_fee_ppm = 100000,
	    .min_fee_ppm_saturated = 0,
	    .saturated_outbound_ratio = 0.85,
	    .balanced_router_max_imbalance = 0.33,
	    .balanced_router_min_turnover = 0.25,
	    .base_fee_msat = -1,
	    .hive_fee_ppm = 0,
	    .default_open_cost_sat = 5000,
	    .default_close_cost_sat = 3000,
	    .open_vbytes = 140,
	    .close_vbytes = 200,
	    .open_cost_min_sat = 500,
	    .open_cost_max_sat = 50000,
	    .close_cost_min_sat = 300,
	    .close_cost_max_sat = 50000,
	    .lifetime_days = 365,
	    .amortise_daily_volume_sat = 1000000,
	    .amortise_capacity_turnover = 0,
	    .force_close_probability = 0.001,
	    .force_close_vbytes = 150,
	    .reference_htlc_sat = 50000,
	    .hold_avg_sec = 10,
	    .hold_std_sec = 5,
	    .hold_premium = 1.2,
	    .very_low_balance_ratio = 0.10,
	    .very_low_balance_floor_ppm = 500,
	    .low_balance_ratio = 0.25,
	    .low_balance_floor_ppm = 200,
	    .max_floor_multiplier = 3.0,
	    .rebalance_floor_min_samples = 3,
	    .rebalance_floor_margin = 1.20,
	    .rebalance_floor_cap_ppm = 5000,
	    .protective_ceiling_headroom_ppm = 100,
	    .idle_ceiling_min_fee_ppm = 500,
	    .idle_ceiling_days_1 = 3,
	    .idle_ceiling_days_2 = 7,
	    .policy_mult_min_default = 0.1,
	    .policy_mult_max_default = 5.0,
	    .congestion_step_mult = 2,
	    .congestion_step_ppm = 250,
	    .congestion_episode_mult = 4,
	    .congestion_quiet_cycles = 2,
	    .vegas_enabled = true,
	    .vegas_decay = 0.85,
	    .vegas_cycle_sec = 1800,
	    .probe_enabled = true,
	    .probe_idle_days = 7,
	    .probe_max_age_sec = 86400,
	    .probe_max_attempts = 2,
	    .probe_cooldown_sec = 7 * 86400,
	    .probe_min_outbound_ratio = 0.05,
	    .fire_sale_enabled = false,
	    .fire_sale_min_days_open = 90,
	    .fire_sale_underwater_roi = -0.5,
	    .momentum_marginal_roi = 0.05,
	    .momentum_max_days_open = 180,
	    .fire_sale_fee_ppm = 1,
	    .prior_mean_ppm = 200,
	    .prior_std_ppm = 100,
	    .prior_weight = 1.0,
	    .decay_hours = 168,
	    .max_observations = 200,
	    .min_observations = 3,
	    .min_std_ppm = 10,
	    .cold_prior_std_mult = 1.5,
	    .regime_explore_mult = 1.5,
	    .revenue_weight_power = 3,
	    .revenue_weight_cap = 8,
	    .context_min_count = 3,
	    .context_offset_cap = 0.20,
	    .min_observation_sec = 3600,
	    .max_observation_sec = 6 * 3600,
	    .min_forwards_for_signal = 3,
	    .full_weight_hours = 6,
	    .ema_alpha = 0.3,
	    .damp_ratio = 0.25,
	    .damp_min_ppm = 25,
	    .reputation_enabled = true,
	    .aimd_failure_threshold = 3,
	    .aimd_success_threshold = 10,
	    .aimd_decrease = 0.85,
	    .aimd_min_modifier = 0.5,
	    .aimd_increase_ppm = 5,
	    .aimd_min_decrease_interval_sec = 3600,
	    .cold_start_forwards = 5,
	    .cold_start_headroom_ppm = 50,
	    .cold_start_ceiling_min_ppm = 100,
	    .scarcity_enabled = true,
	    .scarcity_threshold = 0.35,
	    .scarcity_max_mult = 3,
	    .liquidity_credit_weight = 0.5,
	    .liquidity_credit_ratio = 0.5,
	    .min_change_low_fee_ppm = 100,
	    .min_change_ppm = 5,
	    .min_change_ratio = 0.03,
	    .gossip_hysteresis_pct = 0.05,
	    .gossip_refresh_sec = 86400,
	    .external_hold_sec = 86400,
	};
	congestion_params_default(&p->congestion);
	pnl_params_default(&p->pnl);
}

void fee_ctl_obs_init(struct fee_ctl_obs *o)
{
	*o = (struct fee_ctl_obs){
	    .opener = PNL_OPENER_UNKNOWN,
	    .policy = {.strategy = FEE_CTL_DYNAMIC, .fee_ppm_target = -1},
	    .flow_class = FLOW_UNKNOWN,
	    .peer_reputation = -1,
	    .peer_uptime_pct = -1,
	    .peer_hold_avg_sec = -1,
	    .peer_hold_std_sec = -1,
	    .pnl_known = false,
	    .pnl_class = PNL_BREAK_EVEN,
	    .time_intensity = -1,
	    .prior_hint_ppm = -1,
	    .anchor_target_ppm = -1,
	};
}

double fee_ctl_liquidity_value_ppm(const struct fee_ctl_params *p,
				   int64_t fee_ppm, uint64_t local_sat,
				   uint64_t capacity_sat)
{
	double ratio, depletion;

	if (!capacity_sat || fee_ppm <= 0 || p->liquidity_credit_ratio <= 0)
		return 0;
	ratio = (double)local_sat / (double)capacity_sat;
	depletion = 1 - ratio / p->liquidity_credit_ratio;
	if (depletion <= 0)
		return 0;
	return (double)fee_ppm * p->liquidity_credit_weight * fmin(depletion, 1);
}

void fee_ctl_state_init(const struct fee_ctl_params *p,
			struct fee_ctl_state *st, int64_t prior_fee_ppm)
{
	memset(st, 0, sizeof(*st));
	st->version = FEE_CTL_STATE_VERSION;
	st->last_set_fee_ppm = -1;
	st->last_set_base_msat = -1;
	st->last_class = FEE_CLASS_NONE;
	st->pending_target_ppm = -1;
	st->refresh_dir = 1;
	st->prior_mean_ppm =
	    prior_fee_ppm >= 0 ? (double)prior_fee_ppm : p->prior_mean_ppm;
	st->prior_std_ppm = p->prior_std_ppm;
	st->aimd_modifier = 1.0;
	st->congestion_entry_fee_ppm = -1;
}

void fee_ctl_state_adopt(struct fee_ctl_state *st, int64_t fee_ppm,
			 int64_t base_msat, uint64_t now)
{
	st->last_set_fee_ppm = fee_ppm;
	st->last_set_base_msat = base_msat;
	st->external_adopted_sec = now;
	st->last_broadcast_sec = now;
	st->last_update_sec = now;
	st->aimd_seen_failures = 0;
	st->aimd_seen_forwards = 0;
	st->pending_target_ppm = -1;
	st->probe_started_sec = 0;
	st->congestion_active = 0;
	st->congestion_quiet = 0;
	st->last_class = FEE_CLASS_EXTERNAL;
}

/* ---- small helpers ---- */

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ppm values are whole numbers; truncate like the reference's int(), but
 * never past the int64 range. */
static int64_t to_ppm(double x)
{
	if (!(x > 0))
		return 0;
	if (x > 1e15)
		return (int64_t)1e15;
	return (int64_t)x;
}

static uint32_t days_between(uint64_t from, uint64_t to)
{
	uint64_t d;

	if (!from || to <= from)
		return 0;
	d = (to - from) / 86400;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static void num(struct fee_ctl_step_rec *s, const char *name, double v)
{
	if (s->n_nums < FEE_CTL_MAX_NUMS) {
		s->nums[s->n_nums].name = name;
		s->nums[s->n_nums].value = v;
		s->n_nums++;
	}
}

double fee_ctl_step_num(const struct fee_ctl_decision *d,
			enum fee_ctl_step_id s, const char *name)
{
	const struct fee_ctl_step_rec *r;

	if ((unsigned)s >= FEE_STEP_NUM)
		return NAN;
	r = &d->steps[s];
	for (size_t i = 0; i < r->n_nums; i++)
		if (strcmp(r->nums[i].name, name) == 0)
			return r->nums[i].value;
	return NAN;
}

/* ---- contexts ---- */

static size_t balance_bucket(double outbound)
{
	if (outbound < 0.15)
		return 0; /* depleted */
	if (outbound < 0.35)
		return 1; /* low */
	if (outbound < 0.65)
		return 2; /* balanced */
	if (outbound < 0.85)
		return 3; /* high */
	return 4;	  /* saturated */
}

static size_t time_bucket(double intensity)
{
	if (!(intensity >= 0))
		return 1; /* unknown: normal */
	if (intensity < 0.3)
		return 0;
	if (intensity > 0.7)
		return 2;
	return 1;
}

size_t fee_ctl_context_index(double outbound_ratio, double time_intensity)
{
	return balance_bucket(outbound_ratio) * FEE_CTL_TIME_BUCKETS +
	       time_bucket(time_intensity);
}

/* ---- posterior ---- */

static uint32_t max_obs(const struct fee_ctl_params *p)
{
	uint32_t m = p->max_observations;

	if (m == 0 || m > FEE_CTL_MAX_OBS)
		m = FEE_CTL_MAX_OBS;
	return m;
}

static const struct fee_ctl_obs_rec *obs_at(const struct fee_ctl_state *st,
					    uint32_t i)
{
	/* i-th oldest of the ring. */
	uint32_t idx = (st->obs_head + FEE_CTL_MAX_OBS - st->n_obs + i) %
		       FEE_CTL_MAX_OBS;
	return &st->obs[idx];
}

static double obs_decay(const struct fee_ctl_params *p,
			const struct fee_ctl_obs_rec *o, uint64_t now)
{
	double age_h = ((double)now - o->time_sec) / 3600.0;

	if (age_h < 0)
		age_h = 0;
	if (!(p->decay_hours > 0))
		return 1;
	/* 0.5^x as exp2(-x): the same value, a fraction of pow's cost
	 * (this runs for every observation of every channel each cycle). */
	return exp2(-age_h / p->decay_hours);
}

/* x^power, with the usual integer power done by multiplication (pow()
 * dominated the fee cycle's CPU time). */
static double powr(double x, double power)
{
	if (power == 3)
		return x * x * x;
	if (power == 2)
		return x * x;
	if (power == 1)
		return x;
	return pow(x, power);
}

/* How much an observation made in context @b tells about context @a:
 * the same balance bucket at the same / adjacent / opposite time of day
 * 1 / 0.5 / 0.2; the adjacent balance bucket at the same time 0.3. */
static double similarity(size_t a, size_t b)
{
	size_t ba = a / FEE_CTL_TIME_BUCKETS, ta = a % FEE_CTL_TIME_BUCKETS;
	size_t bb = b / FEE_CTL_TIME_BUCKETS, tb = b % FEE_CTL_TIME_BUCKETS;
	size_t dt = ta > tb ? ta - tb : tb - ta;

	if (ba == bb)
		return dt == 0 ? 1.0 : dt == 1 ? 0.5 : 0.2;
	if ((ba + 1 == bb || bb + 1 == ba) && dt == 0)
		return 0.3;
	return 0;
}

static const struct fee_ctl_obs_rec *
nth_obs(const struct fee_ctl_state *st, const struct fee_ctl_obs_rec *extra,
	uint32_t i)
{
	return i < st->n_obs ? obs_at(st, i) : extra;
}

/* Revenue-weighted Gaussian over the fee. Each observation weighs
 * decay x window weight x (revenue / mean revenue)^power (capped): fees
 * that earned more than this channel usually earns pull the mean toward
 * them, which climbs the revenue curve whatever its scale. The prior is
 * prior_weight pseudo-observations at (prior mean, prior std).
 *
 * With @ctx >= 0 the observations are further weighted by their
 * similarity to that context, and the mean is the global one moved by
 * the difference between this context's data mean and the global data
 * mean, shrunk by W / (W + prior_weight): a context with little evidence
 * of its own stays at the global mean, and when every observation shares
 * one context the shift is exactly 0. out->n_obs then counts the
 * observations made in @ctx itself. */
static void posterior_with(const struct fee_ctl_params *p,
			   const struct fee_ctl_state *st, uint64_t now,
			   const struct fee_ctl_obs_rec *extra, int ctx,
			   const struct fee_ctl_posterior *global,
			   struct fee_ctl_posterior *out)
{
	uint32_t n = st->n_obs + (extra ? 1 : 0);
	double sw = 0, swr = 0, rref, eps, W = 0, WF = 0, WV = 0, mean, var;
	double pw = p->prior_weight > 0 ? p->prior_weight : 0;
	double pm = ctx >= 0 ? global->mean_ppm : st->prior_mean_ppm;
	double ps = ctx >= 0 ? global->std_ppm : st->prior_std_ppm;

	*out = (struct fee_ctl_posterior){0};
	for (uint32_t i = 0; i < n; i++) {
		const struct fee_ctl_obs_rec *o = nth_obs(st, extra, i);
		double dw = obs_decay(p, o, now) * o->weight;
		sw += dw;
		swr += dw * o->revenue_sat_per_hour;
		if (ctx < 0 || o->context == (double)ctx)
			out->n_obs++;
	}
	out->weight = sw;
	if (sw <= 0.1 || n == 0) {
		out->mean_ppm = pm;
		out->std_ppm = fmax(ps, p->min_std_ppm);
		out->from_prior = true;
		return;
	}
	rref = ctx >= 0 ? global->rev_ref_sat_per_hour : swr / sw;
	out->rev_ref_sat_per_hour = rref;
	eps = 0.01 * rref + 1e-9;
	for (int pass = 0; pass < (ctx >= 0 ? 1 : 2); pass++) {
		if (pass == 1)
			mean = (WF + pw * pm) / (W + pw);
		for (uint32_t i = 0; i < n; i++) {
			const struct fee_ctl_obs_rec *o = nth_obs(st, extra, i);
			double rf =
			    powr((fmax(0, o->revenue_sat_per_hour) + eps) /
				     (rref + eps),
				 p->revenue_weight_power);
			double w = obs_decay(p, o, now) * o->weight *
				   fmin(p->revenue_weight_cap, rf);
			if (ctx >= 0)
				w *=
				    similarity((size_t)ctx, (size_t)o->context);
			if (pass == 0) {
				W += w;
				WF += w * o->fee_ppm;
			} else {
				WV += w * (o->fee_ppm - mean) *
				      (o->fee_ppm - mean);
			}
		}
	}
	out->data_weight = W;
	out->data_mean_ppm = W > 0 ? WF / W : pm;
	if (ctx >= 0) {
		out->mean_ppm = global->mean_ppm;
		if (W > 0 && global->data_weight > 0)
			out->mean_ppm += W / (W + pw) *
					 (out->data_mean_ppm -
					  global->data_mean_ppm);
		out->std_ppm = global->std_ppm;
		return;
	}
	mean = (WF + pw * pm) / (W + pw);
	var = (WV + pw * (ps * ps + (pm - mean) * (pm - mean))) / (W + pw);
	var = fmax(var, p->min_std_ppm * p->min_std_ppm);
	out->mean_ppm = mean;
	out->std_ppm = sqrt(var);
}

void fee_ctl_posterior(const struct fee_ctl_params *p,
		       const struct fee_ctl_state *st, uint64_t now,
		       struct fee_ctl_posterior *out)
{
	posterior_with(p, st, now, NULL, -1, NULL, out);
}

/* ---- one run of the step ---- */

struct run {
	const struct fee_ctl_params *p;
	struct fee_ctl_state *st;
	const struct fee_ctl_obs *o;
	uint64_t now;
	struct rng *rng;
	struct fee_ctl_decision *d;

	int64_t current;
	double outbound;
	uint32_t days_open;
	uint32_t days_idle;
	bool virgin;

	int64_t fee;	     /* the candidate moving through the steps */
	enum fee_ctl_class cls;
	bool decided;	     /* a step fixed the fee; later ones skipped */
	int64_t floor, ceiling;
	double vegas_mult;
	bool vegas_active;

	/* Observation window. */
	uint64_t window_sec;
	bool first_run;
	bool waiting;
	const char *waiting_reason;
	bool have_obs;
	struct fee_ctl_obs_rec cand;
};

static struct fee_ctl_step_rec *begin(struct run *r, enum fee_ctl_step_id id)
{
	struct fee_ctl_step_rec *s = &r->d->steps[id];

	s->evaluated = true;
	s->fee_in_ppm = r->fee;
	s->fee_out_ppm = r->fee;
	return s;
}

static void end(struct run *r, struct fee_ctl_step_rec *s)
{
	s->fee_out_ppm = r->fee;
}

static void skip(struct run *r, enum fee_ctl_step_id id, const char *reason)
{
	struct fee_ctl_step_rec *s = &r->d->steps[id];

	s->evaluated = false;
	s->reason = reason;
	s->fee_in_ppm = s->fee_out_ppm = r->fee;
}

static void decide(struct run *r, enum fee_ctl_step_id id, const char *reason)
{
	r->decided = true;
	r->d->decided_by = id;
	r->d->reason = reason;
}

/* ---- observe: window, candidate observation, AIMD counters ---- */

static void observe(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_state *st = r->st;
	bool shielded, enough;
	double hours, rep, up, eff_sat;
	uint32_t df, ds;

	r->first_run = st->last_update_sec == 0;
	r->window_sec = !r->first_run && r->now > st->last_update_sec
			    ? r->now - st->last_update_sec
			    : 0;
	enough = o->win_forwards >= p->min_forwards_for_signal ||
		 r->window_sec >= p->max_observation_sec;
	if (!r->first_run && r->window_sec < p->min_observation_sec) {
		r->waiting = true;
		r->waiting_reason = "waiting_time";
	} else if (!r->first_run && !enough) {
		r->waiting = true;
		r->waiting_reason = "waiting_forwards";
	}
	if (!r->first_run && !r->waiting) {
		hours = (double)r->window_sec / 3600.0;
		/* A profitable channel's volume is trusted as is (the
		 * profitability shield); otherwise a flaky or failing peer
		 * cannot inflate demand. Uptime applies to everyone. */
		shielded = o->pnl_known && o->pnl_class == PNL_PROFITABLE;
		rep = !p->reputation_enabled || shielded ||
			      o->peer_reputation < 0
			  ? 1.0
			  : clampd(o->peer_reputation, 0, 1);
		up = o->peer_uptime_pct < 0
			 ? 1.0
			 : clampd(o->peer_uptime_pct / 100.0, 0, 1);
		eff_sat = (double)o->win_out_msat / 1000.0 * rep * up;
		r->cand.fee_ppm = (double)r->current;
		/* The liquidity credit: a cheaper fee here that pulls
		 * traffic in through a depleted channel refills what that
		 * channel sells dearly (the fee alone undervalues it). */
		r->cand.revenue_sat_per_hour =
		    (eff_sat * (double)r->current / 1e6 +
		     (double)o->win_in_credit_msat / 1000.0 * rep * up) /
		    hours;
		r->cand.weight =
		    fmax(0.01, fmin(1.0, hours / p->full_weight_hours));
		r->cand.time_sec = (double)r->now;
		r->cand.context = (double)fee_ctl_context_index(
		    r->outbound, o->time_intensity);
		r->have_obs = true;
	}

	/* AIMD counts events once even though the window stays open over
	 * several cycles: count only what is new since the last look. */
	df = o->win_fee_failures >= st->aimd_seen_failures
		 ? o->win_fee_failures - st->aimd_seen_failures
		 : o->win_fee_failures;
	ds = o->win_forwards >= st->aimd_seen_forwards
		 ? o->win_forwards - st->aimd_seen_forwards
		 : o->win_forwards;
	st->aimd_seen_failures = o->win_fee_failures;
	st->aimd_seen_forwards = o->win_forwards;
	st->aimd_failures += df;
	st->aimd_successes += ds;

	st->htlc_util_ema =
	    congestion_ema_update(&p->congestion, st->htlc_util_ema,
				  o->htlc_util);
}

/* ---- AIMD ---- */

static const char *aimd_update(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_state *st = r->st;

	if (st->aimd_failures >= p->aimd_failure_threshold &&
	    (st->aimd_last_decrease_sec == 0 ||
	     r->now >= st->aimd_last_decrease_sec +
			   p->aimd_min_decrease_interval_sec)) {
		st->aimd_modifier = fmax(p->aimd_min_modifier,
					 st->aimd_modifier * p->aimd_decrease);
		st->aimd_active = 1;
		st->aimd_failures = 0;
		st->aimd_successes = 0;
		st->aimd_last_decrease_sec = r->now;
		return "aimd_decrease";
	}
	if (st->aimd_successes >= p->aimd_success_threshold) {
		st->aimd_successes = 0;
		if (!st->aimd_active)
			return "aimd_idle";
		/* +N ppm at the current fee, as a multiplier. */
		st->aimd_modifier +=
		    (double)p->aimd_increase_ppm / (double)max64(1, r->current);
		if (st->aimd_modifier >= 1.0) {
			st->aimd_modifier = 1.0;
			st->aimd_active = 0;
			return "aimd_recovered";
		}
		return "aimd_increase";
	}
	return st->aimd_active ? "aimd_defending" : "aimd_idle";
}

/* ---- VEGAS (state update; the floor effect is applied in bounds) ---- */

static void vegas_update(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_VEGAS);
	double before = st->vegas_intensity, decay = 1, ratio = 0, boost = 0;

	r->vegas_mult = 1;
	if (!p->vegas_enabled) {
		st->vegas_intensity = 0;
		st->vegas_consecutive = 0;
		s->reason = "disabled";
		return;
	}
	/* Decay first, then the spike check (the M invariant, defect 6): a
	 * full spike yields a full 3x floor in the cycle it is seen. The
	 * decay follows elapsed cycles, so a channel not stepped for a while
	 * is not left with a stale spike. */
	if (st->vegas_decayed_sec && r->now > st->vegas_decayed_sec &&
	    p->vegas_cycle_sec) {
		decay = pow(p->vegas_decay,
			    (double)(r->now - st->vegas_decayed_sec) /
				(double)p->vegas_cycle_sec);
		st->vegas_intensity *= decay;
	}
	if (r->now > st->vegas_decayed_sec)
		st->vegas_decayed_sec = r->now;
	s->reason = "calm";
	if (o->mempool_sample_sec > st->vegas_last_sample_sec &&
	    o->mempool_satvb > 0) {
		double ma = o->mempool_ma_satvb > 0 ? o->mempool_ma_satvb : 1;
		ratio = o->mempool_satvb / ma;
		st->vegas_last_sample_sec = o->mempool_sample_sec;
		if (ratio >= 2)
			st->vegas_consecutive++;
		else
			st->vegas_consecutive = 0;
		if (ratio >= 4) {
			st->vegas_intensity = 1.0;
			s->reason = "spike";
		} else if (ratio >= 2) {
			bool fire = st->vegas_consecutive >= 2;
			boost = (ratio - 2) / 2;
			if (!fire) {
				/* The early trigger: a big jump may be a
				 * spike starting, so sometimes act on the
				 * first sample. */
				double u = rng_unit(r->rng);
				num(s, "early_draw", u);
				fire = u < boost * 0.5;
				if (fire)
					s->reason = "early_trigger";
				else
					s->reason = "elevated";
			} else {
				s->reason = "sustained";
			}
			if (fire)
				st->vegas_intensity = fmin(
				    1.0, st->vegas_intensity + boost * 0.3);
		}
	}
	if (st->vegas_intensity < 1e-9)
		st->vegas_intensity = 0;
	if (st->vegas_intensity >= 0.01)
		r->vegas_mult = 1 + sqrt(st->vegas_intensity) * 2;
	r->vegas_active = r->vegas_mult > 1.01;
	num(s, "mempool_satvb", o->mempool_satvb);
	num(s, "mempool_ma_satvb", o->mempool_ma_satvb);
	num(s, "ratio", ratio);
	num(s, "consecutive", st->vegas_consecutive);
	num(s, "boost", boost);
	num(s, "decay_factor", decay);
	num(s, "intensity_before", before);
	num(s, "intensity", st->vegas_intensity);
	num(s, "multiplier", r->vegas_mult);
}

/* ---- BOUNDS ---- */

static double bucket_multiplier(double outbound)
{
	/* LiquidityBuckets: strict "<" on the boundaries. */
	if (outbound < 0.10)
		return 3.0;
	if (outbound < 0.25)
		return 2.0;
	if (outbound < 0.40)
		return 1.25;
	if (outbound < 0.60)
		return 1.0;
	if (outbound < 0.75)
		return 0.85;
	if (outbound < 0.90)
		return 0.7;
	return 0.5;
}

static void bounds(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_BOUNDS);
	struct fee_ctl_step_rec *vs = &r->d->steps[FEE_STEP_VEGAS];
	double satvb = o->feerate_perkb > 0 ? o->feerate_perkb / 1000.0 : 0;
	double open_sat, close_sat, daily_vol, replacement, risk, chain;
	double hold = 1, flow_mult = 1, bucket, total;
	int64_t min_term = p->min_fee_ppm, econ, reb = 0, bal = 0, floor_pre;
	int64_t ceiling = p->max_fee_ppm;
	bool saturated, balanced_router = false, idle_cut = false;

	if (satvb > 0) {
		open_sat = clampd(satvb * p->open_vbytes,
				  (double)p->open_cost_min_sat,
				  (double)p->open_cost_max_sat);
		close_sat = clampd(satvb * p->close_vbytes,
				   (double)p->close_cost_min_sat,
				   (double)p->close_cost_max_sat);
	} else {
		open_sat = (double)p->default_open_cost_sat;
		close_sat = (double)p->default_close_cost_sat;
	}
	/* The peer paid to open a channel it opened (defect 7). */
	if (o->opener == PNL_OPENER_REMOTE)
		open_sat = 0;
	daily_vol =
	    p->amortise_capacity_turnover > 0
		? (double)o->capacity_sat * p->amortise_capacity_turnover
		: p->amortise_daily_volume_sat;
	replacement = daily_vol > 0 && p->lifetime_days > 0
			  ? (open_sat + close_sat) /
				(p->lifetime_days * daily_vol) * 1e6
			  : 0;
	/* Expected force-close cost of an HTLC: 150 vB at the feerate with
	 * probability 0.001, per 50,000 sat reference HTLC (3 x sat/vB). */
	risk = 0;
	if (p->reference_htlc_sat > 0)
		risk = satvb * p->force_close_vbytes *
		       p->force_close_probability / p->reference_htlc_sat * 1e6;
	chain = fmax(replacement, risk);
	/* Stall defence: a peer that holds HTLCs long ties up our slots. */
	if (o->peer_hold_avg_sec > p->hold_avg_sec ||
	    o->peer_hold_std_sec > p->hold_std_sec)
		hold = p->hold_premium;
	chain = fmax(1, chain * hold);

	/* Multipliers apply to the chain-cost term only: the global minimum,
	 * the rebalance cost and the balance floors are absolute (defect 8:
	 * a sink's x0.80 must not undercut min_fee_ppm). */
	if (o->flow_class == FLOW_SOURCE)
		flow_mult = 1.25;
	else if (o->flow_class == FLOW_SINK)
		flow_mult = 0.80;
	bucket = fmin(bucket_multiplier(r->outbound), p->max_floor_multiplier);
	if (r->virgin && bucket > 1)
		bucket = 1;
	econ = to_ppm(chain * flow_mult * bucket);

	saturated = r->outbound >= p->saturated_outbound_ratio ||
		    o->flow_class == FLOW_SOURCE;
	total = (double)o->window_in_sat + (double)o->window_out_sat;
	if (total > 0 &&
	    fabs((double)o->window_out_sat - (double)o->window_in_sat) /
		    total <=
		p->balanced_router_max_imbalance &&
	    total >= p->balanced_router_min_turnover * (double)o->capacity_sat)
		balanced_router = true;
	if (p->min_fee_ppm_saturated > 0 &&
	    p->min_fee_ppm_saturated < p->min_fee_ppm && saturated &&
	    !balanced_router)
		min_term = p->min_fee_ppm_saturated;

	/* Never sell refilled liquidity below what the refill cost. Sinks
	 * refill themselves and dormant channels sell nothing. */
	if (o->rebalance_samples_30d >= p->rebalance_floor_min_samples &&
	    o->rebalance_amount_30d_msat > 0 &&
	    o->rebalance_cost_30d_msat > 0 && o->flow_class != FLOW_SINK &&
	    o->flow_class != FLOW_DORMANT) {
		double cost_ppm =
		    fmin((double)p->rebalance_floor_cap_ppm,
			 (double)o->rebalance_cost_30d_msat * 1e6 /
			     (double)o->rebalance_amount_30d_msat);
		reb = to_ppm(cost_ppm * p->rebalance_floor_margin);
	}
	if (!r->virgin) {
		if (r->outbound < p->very_low_balance_ratio)
			bal = p->very_low_balance_floor_ppm;
		else if (r->outbound < p->low_balance_ratio)
			bal = p->low_balance_floor_ppm;
	}
	floor_pre = max64(max64(min_term, econ), max64(reb, bal));

	/* An expensive channel that stopped forwarding is probably priced
	 * out: lower its ceiling. One that never forwarded keeps it. */
	if (r->current >= p->idle_ceiling_min_fee_ppm && o->last_forward_sec) {
		if (r->days_idle >= p->idle_ceiling_days_2) {
			ceiling = ceiling / 2;
			idle_cut = true;
		} else if (r->days_idle >= p->idle_ceiling_days_1) {
			ceiling = ceiling * 3 / 4;
			idle_cut = true;
		}
	}
	s->reason = "economic";
	if (o->policy.fee_ppm_target >= 0) {
		double mn = o->policy.fee_multiplier_min > 0
				? o->policy.fee_multiplier_min
				: p->policy_mult_min_default;
		double mx = o->policy.fee_multiplier_max > 0
				? o->policy.fee_multiplier_max
				: p->policy_mult_max_default;
		floor_pre = to_ppm((double)o->policy.fee_ppm_target * mn + 0.5);
		ceiling = to_ppm((double)o->policy.fee_ppm_target * mx + 0.5);
		s->reason = "policy_bounds";
	}

	num(s, "satvb", satvb);
	num(s, "open_cost_sat", open_sat);
	num(s, "close_cost_sat", close_sat);
	num(s, "amortise_daily_sat", daily_vol);
	num(s, "replacement_ppm", replacement);
	num(s, "risk_premium_ppm", risk);
	num(s, "hold_premium", hold);
	num(s, "chain_floor_ppm", chain);
	num(s, "flow_multiplier", flow_mult);
	num(s, "bucket_multiplier", bucket);
	num(s, "econ_floor_ppm", (double)econ);
	num(s, "min_term_ppm", (double)min_term);
	num(s, "balanced_router", balanced_router);
	num(s, "rebalance_floor_ppm", (double)reb);
	num(s, "balance_floor_ppm", (double)bal);
	num(s, "virgin_amnesty", r->virgin);
	num(s, "idle_ceiling_cut", idle_cut);
	num(s, "floor_pre_vegas_ppm", (double)floor_pre);

	/* The Vegas reflex multiplies the whole floor (defect 5). */
	r->floor = floor_pre;
	if (r->vegas_active) {
		r->floor = to_ppm((double)floor_pre * r->vegas_mult);
		vs->applied = r->floor > floor_pre;
		if (vs->applied && strcmp(vs->reason, "calm") == 0)
			vs->reason = "decaying";
	}
	num(vs, "floor_before_ppm", (double)floor_pre);
	num(vs, "floor_after_ppm", (double)r->floor);

	/* A protective floor wins over the ceiling. */
	if (r->floor > ceiling)
		ceiling = r->floor + p->protective_ceiling_headroom_ppm;
	r->floor = clampi(r->floor, 0, p->abs_max_fee_ppm);
	r->ceiling = clampi(ceiling, r->floor, p->abs_max_fee_ppm);
	num(s, "floor_ppm", (double)r->floor);
	num(s, "ceiling_ppm", (double)r->ceiling);
	r->d->floor_ppm = r->floor;
	r->d->ceiling_ppm = r->ceiling;
	s->applied = r->current < r->floor || r->current > r->ceiling;
	end(r, s);
}

/* ---- CONGESTION ---- */

static void congestion(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_CONGESTION);
	int64_t cap_step, cap_episode, target;

	num(s, "htlc_util", r->o->htlc_util);
	num(s, "util_ema", st->htlc_util_ema);
	if (!r->o->congested) {
		if (!st->congestion_active) {
			s->reason = "not_congested";
			return;
		}
		st->congestion_quiet++;
		num(s, "quiet_cycles", st->congestion_quiet);
		if (st->congestion_quiet >= p->congestion_quiet_cycles) {
			st->congestion_active = 0;
			st->congestion_quiet = 0;
			st->congestion_entry_fee_ppm = -1;
			s->reason = "episode_ended";
			return;
		}
		/* Hold the episode's fee while it may come back. */
		s->applied = true;
		r->cls = FEE_CLASS_CONGESTION;
		decide(r, FEE_STEP_CONGESTION, "congestion_cooldown");
		s->reason = "congestion_cooldown";
		end(r, s);
		return;
	}
	if (!st->congestion_active) {
		st->congestion_active = 1;
		st->congestion_entry_fee_ppm = max64(1, r->current);
		s->reason = "congestion_entry";
	} else {
		s->reason = "congestion_episode";
	}
	st->congestion_quiet = 0;
	/* Bounded steps, and a bounded episode (the 101 -> 2612 ppm runaway
	 * of the reference, defect 15). */
	cap_step = max64(to_ppm((double)r->current * p->congestion_step_mult),
			 r->current + p->congestion_step_ppm);
	cap_episode = to_ppm((double)st->congestion_entry_fee_ppm *
			     p->congestion_episode_mult);
	target = min64(r->ceiling, min64(cap_step, cap_episode));
	target = max64(target, r->floor);
	num(s, "entry_fee_ppm", (double)st->congestion_entry_fee_ppm);
	num(s, "step_cap_ppm", (double)cap_step);
	num(s, "episode_cap_ppm", (double)cap_episode);
	num(s, "ceiling_ppm", (double)r->ceiling);
	r->fee = target;
	r->cls = FEE_CLASS_CONGESTION;
	s->applied = true;
	decide(r, FEE_STEP_CONGESTION, s->reason);
	end(r, s);
}

/* ---- PROBE ---- */

static void probe(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_PROBE);
	bool idle;

	num(s, "attempts", st->probe_attempts);
	num(s, "days_idle", r->days_idle);
	num(s, "outbound_ratio", r->outbound);
	if (st->probe_started_sec) {
		num(s, "age_sec",
		    (double)(r->now > st->probe_started_sec
				 ? r->now - st->probe_started_sec
				 : 0));
		num(s, "window_forwards", o->win_forwards);
		if (o->win_forwards > 0) {
			/* Demand exists at some price ("DEFIBRILLATOR
			 * SUCCESS"): back to normal pricing. */
			st->probe_started_sec = 0;
			st->probe_success_sec = r->now;
			st->probe_last_end_sec = r->now;
			s->reason = "probe_success";
			return;
		}
		if (r->vegas_active) {
			/* No zero fees while on-chain replacement is dear:
			 * stop this probe (its attempt stays counted). */
			st->probe_started_sec = 0;
			st->probe_last_end_sec = r->now;
			s->reason = "probe_cancelled_vegas";
			return;
		}
		if (r->now >= st->probe_started_sec + p->probe_max_age_sec) {
			st->probe_started_sec = 0;
			st->probe_last_end_sec = r->now;
			s->reason = "probe_expired";
			return;
		}
		r->fee = 0;
		r->cls = FEE_CLASS_PROBE;
		s->applied = true;
		s->reason = "probe_active";
		decide(r, FEE_STEP_PROBE, s->reason);
		end(r, s);
		return;
	}
	if (!p->probe_enabled) {
		s->reason = "disabled";
		return;
	}
	idle = (o->pnl_known && o->pnl_class == PNL_STAGNANT) ||
	       r->days_idle >= p->probe_idle_days;
	if (!idle) {
		s->reason = "not_idle";
		return;
	}
	if (st->probe_attempts >= p->probe_max_attempts) {
		s->reason = "attempts_exhausted";
		return;
	}
	if (st->probe_last_end_sec &&
	    r->now < st->probe_last_end_sec + p->probe_cooldown_sec) {
		s->reason = "cooldown";
		return;
	}
	/* Without outbound liquidity nothing can leave through the channel,
	 * so a probe would prove nothing. */
	if (r->outbound < p->probe_min_outbound_ratio) {
		s->reason = "no_outbound";
		return;
	}
	if (r->vegas_active) {
		s->reason = "deferred_vegas";
		return;
	}
	st->probe_started_sec = r->now;
	st->probe_attempts++;
	r->fee = 0;
	r->cls = FEE_CLASS_PROBE;
	s->applied = true;
	s->reason = "probe_start";
	decide(r, FEE_STEP_PROBE, s->reason);
	end(r, s);
}

/* ---- FIRE SALE ---- */

static void fire_sale(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_FIRE_SALE);
	bool eligible;

	num(s, "days_open", r->days_open);
	num(s, "roi", o->roi);
	num(s, "marginal_roi", o->marginal_roi);
	if (!p->fire_sale_enabled) {
		s->reason = "disabled";
		return;
	}
	eligible = o->pnl_known && r->days_open > p->fire_sale_min_days_open &&
		   (o->pnl_class == PNL_ZOMBIE ||
		    (o->pnl_class == PNL_UNDERWATER &&
		     o->roi < p->fire_sale_underwater_roi));
	if (!eligible) {
		s->reason = "not_eligible";
		return;
	}
	/* A young channel whose running economics turned positive is
	 * recovering: do not dump it. */
	if (o->marginal_roi > p->momentum_marginal_roi &&
	    r->days_open < p->momentum_max_days_open) {
		s->reason = "momentum_guard";
		return;
	}
	if (r->vegas_active) {
		s->reason = "deferred_vegas";
		return;
	}
	r->fee = p->fire_sale_fee_ppm;
	r->cls = FEE_CLASS_FIRE_SALE;
	s->applied = true;
	s->reason = "fire_sale";
	decide(r, FEE_STEP_FIRE_SALE, s->reason);
	end(r, s);
}

/* ---- THOMPSON + AIMD ---- */

/* The operator's fee anchor: the sample moved toward the target by
 * w = base_weight x confidence. Only the sample: what follows in the step
 * (AIMD, profit adjustment, damping) and the later steps still apply, so
 * an anchor can pull the fee but never past the floor, the ceiling or a
 * cycle's damping limit. Draws nothing from the rng, so an anchor does not
 * shift any later random draw. */
static double anchor_blend(struct run *r, struct fee_ctl_step_rec *s,
			   double sample)
{
	const struct fee_ctl_obs *o = r->o;
	double w, blended;

	if (o->anchor_target_ppm < 0 || r->now >= o->anchor_expires_sec)
		return sample;
	w = o->anchor_base_weight * o->anchor_confidence;
	blended = w * (double)o->anchor_target_ppm + (1 - w) * sample;
	num(s, "anchor_target_ppm", (double)o->anchor_target_ppm);
	num(s, "anchor_confidence", o->anchor_confidence);
	num(s, "anchor_base_weight", o->anchor_base_weight);
	num(s, "anchor_weight", w);
	num(s, "anchor_expires_sec", (double)o->anchor_expires_sec);
	num(s, "sampled_ppm", sample);
	num(s, "anchored_ppm", blended);
	return blended;
}

static void thompson(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_THOMPSON);
	struct fee_ctl_posterior post, cpost;
	double mod, mu, sd, z, sample, blended, adj, lim, offset = 0, cap;
	bool to_floor;
	size_t ci;
	int64_t fee;

	r->d->aimd_event = aimd_update(r);
	/* The time context's input (engine/temporal.h; -1: unknown, read
	 * as the normal bucket), for the operator beside "context". */
	num(s, "time_intensity", o->time_intensity);
	num(s, "aimd_modifier", st->aimd_modifier);
	num(s, "aimd_active", st->aimd_active);
	num(s, "aimd_failures", st->aimd_failures);
	num(s, "aimd_successes", st->aimd_successes);
	num(s, "window_sec", (double)r->window_sec);
	num(s, "window_forwards", o->win_forwards);
	num(s, "window_in_credit_sat", (double)o->win_in_credit_msat / 1000.0);
	r->cls = FEE_CLASS_NORMAL;
	if (r->waiting) {
		/* Hold the fee; the window keeps accumulating. */
		s->reason = r->waiting_reason;
		decide(r, FEE_STEP_THOMPSON, s->reason);
		end(r, s);
		return;
	}
	if (r->have_obs) {
		num(s, "obs_revenue_sat_per_hour",
		    r->cand.revenue_sat_per_hour);
		num(s, "obs_weight", r->cand.weight);
	}
	posterior_with(p, st, r->now, r->have_obs ? &r->cand : NULL, -1, NULL,
		       &post);
	ci = fee_ctl_context_index(r->outbound, o->time_intensity);
	posterior_with(p, st, r->now, r->have_obs ? &r->cand : NULL, (int)ci,
		       &post, &cpost);
	mod = o->regime_change ? p->regime_explore_mult : 1.0;
	if (post.n_obs < p->min_observations) {
		mu = st->prior_mean_ppm;
		sd = st->prior_std_ppm * p->cold_prior_std_mult * mod;
		s->reason = "sample_prior";
	} else if (cpost.n_obs >= p->context_min_count && !post.from_prior) {
		/* The context shifts the global mean by a bounded amount; the
		 * spread stays the global one so exploration never
		 * collapses in a rarely-seen context. */
		cap = p->context_offset_cap * fmax(1, post.mean_ppm);
		offset = clampd(cpost.mean_ppm - post.mean_ppm, -cap, cap);
		mu = post.mean_ppm + offset;
		sd = fmax(p->min_std_ppm, post.std_ppm * mod);
		s->reason = "sample_context";
	} else {
		mu = post.mean_ppm;
		sd = fmax(p->min_std_ppm, post.std_ppm * mod);
		s->reason = "sample_posterior";
	}
	z = rng_normal(r->rng);
	sample = mu + sd * z;
	blended = anchor_blend(r, s, sample);
	fee = clampi(to_ppm(blended + 0.5), r->floor, r->ceiling);
	num(s, "posterior_mean_ppm", post.mean_ppm);
	num(s, "posterior_std_ppm", post.std_ppm);
	num(s, "n_obs", post.n_obs);
	num(s, "context", (double)ci);
	num(s, "context_obs", cpost.n_obs);
	num(s, "context_offset_ppm", offset);
	num(s, "explore_mult", mod);
	num(s, "sample_mean_ppm", mu);
	num(s, "sample_std_ppm", sd);
	/* Where the channel's learning started (a chosen live fee, the
	 * neighbour median, or the default). */
	num(s, "prior_mean_ppm", st->prior_mean_ppm);
	num(s, "z", z);
	num(s, "sample_ppm", sample);

	if (st->aimd_active) {
		fee = clampi(to_ppm((double)fee * st->aimd_modifier), r->floor,
			     r->ceiling);
		num(s, "after_aimd_ppm", (double)fee);
	}
	if (o->pnl_known) {
		adj = pnl_fee_adjustment(&p->pnl, o->pnl_class, o->roi,
					 &to_floor);
		if (to_floor)
			fee = r->floor;
		else if (adj != 1.0)
			fee = to_ppm((double)fee * adj);
		num(s, "profit_multiplier", to_floor ? 0 : adj);
	}
	/* Damping: one cycle moves at most a quarter of the fee (or 25 ppm);
	 * the floor below still wins at once. */
	lim = fmax(p->damp_ratio * (double)r->current, (double)p->damp_min_ppm);
	fee = clampi(fee, r->current - (int64_t)lim, r->current + (int64_t)lim);
	num(s, "damp_limit_ppm", lim);
	fee = clampi(fee, r->floor, r->ceiling);
	r->fee = fee;
	s->applied = true;
	decide(r, FEE_STEP_THOMPSON, s->reason);
	end(r, s);
}

/* ---- COLD START ---- */

static void cold_start(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_COLD_START);
	int64_t cap;

	num(s, "total_forwards", (double)r->o->total_forward_count);
	if (r->o->total_forward_count >= p->cold_start_forwards) {
		s->reason = "warm";
		return;
	}
	/* A new channel prices low enough to discover demand. */
	cap = r->floor + p->cold_start_headroom_ppm;
	r->ceiling = min64(r->ceiling,
			   max64(p->cold_start_ceiling_min_ppm, cap));
	r->ceiling = max64(r->ceiling, r->floor);
	num(s, "cap_ppm", (double)cap);
	num(s, "ceiling_ppm", (double)r->ceiling);
	r->d->ceiling_ppm = r->ceiling;
	s->reason = "cold_start";
	if (r->fee > cap) {
		r->fee = cap;
		s->applied = true;
		r->d->reason = "cold_start";
		r->d->decided_by = FEE_STEP_COLD_START;
	}
	end(r, s);
}

/* ---- SCARCITY (+ the final clamp of the normal path) ---- */

static void scarcity(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_SCARCITY);
	struct congestion_params cp = p->congestion;
	double bal = 1, slot = 1, thr = p->scarcity_threshold;
	int64_t before;

	if (r->waiting) {
		s->reason = "waiting";
	} else if (!p->scarcity_enabled) {
		s->reason = "disabled";
	} else {
		s->reason = "none";
		if (thr > 0 && r->outbound < thr) {
			if (r->virgin) {
				/* The peer opened it to us and it never
				 * routed: naturally all-inbound, and a
				 * premium would stop it ever being used. */
				s->reason = "virgin_amnesty";
			} else {
				bal = fmin(p->scarcity_max_mult,
					   1 + 2 * (1 - r->outbound / thr));
			}
		}
		/* Slot scarcity honours the configured threshold too
		 * (defect 11). */
		cp.scarcity_threshold = thr;
		slot =
		    congestion_scarcity_multiplier(&cp, r->st->htlc_util_ema);
		if (!(slot > 1 && r->fee > r->floor))
			slot = 1;
		if (bal > 1 || slot > 1) {
			r->fee = to_ppm((double)r->fee * bal * slot);
			s->applied = true;
			s->reason = "scarcity";
			r->d->reason = "scarcity";
			r->d->decided_by = FEE_STEP_SCARCITY;
		}
	}
	num(s, "outbound_ratio", r->outbound);
	num(s, "threshold", thr);
	num(s, "balance_multiplier", bal);
	num(s, "util_ema", r->st->htlc_util_ema);
	num(s, "slot_multiplier", slot);
	num(s, "virgin", r->virgin);
	before = r->fee;
	r->fee = clampi(r->fee, r->floor, r->ceiling);
	if (r->fee != before && !s->applied) {
		/* Only the bounds moved it (the window is still open, or a
		 * bound changed since): say so. */
		r->d->decided_by = FEE_STEP_BOUNDS;
		r->d->reason = r->fee > before ? "floor_raise" : "ceiling_cut";
	}
	num(s, "clamp_floor_ppm", (double)r->floor);
	num(s, "clamp_ceiling_ppm", (double)r->ceiling);
	end(r, s);
}

/* ---- guards ---- */

static bool rail_violation(const struct run *r)
{
	return r->current < r->floor || r->current > r->ceiling;
}

static bool class_changed(const struct run *r)
{
	return r->st->last_class != FEE_CLASS_NONE &&
	       r->st->last_class != (uint32_t)r->cls;
}

/* Returns true if the change was dropped. */
static bool min_change(struct run *r, bool policy)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_MIN_CHANGE);
	int64_t delta = r->fee > r->current ? r->fee - r->current
					    : r->current - r->fee;
	int64_t need;

	need = r->current < p->min_change_low_fee_ppm
		   ? 1
		   : max64(p->min_change_ppm,
			   to_ppm((double)r->current * p->min_change_ratio));
	num(s, "delta_ppm", (double)delta);
	num(s, "min_delta_ppm", (double)need);
	if (delta == 0) {
		s->reason = "no_change";
		return false;
	}
	if (policy) {
		s->reason = "bypassed_policy";
		return false;
	}
	if (r->cls != FEE_CLASS_NORMAL) {
		s->reason = "bypassed_critical";
		return false;
	}
	if (class_changed(r)) {
		s->reason = "bypassed_class_change";
		return false;
	}
	if (r->d->steps[FEE_STEP_BOUNDS].evaluated && rail_violation(r)) {
		s->reason = "bypassed_rail_violation";
		return false;
	}
	if (delta >= need) {
		s->reason = "passed";
		return false;
	}
	s->applied = true;
	s->reason = "below_min_change";
	r->fee = r->current;
	end(r, s);
	return true;
}

/* Returns true if the broadcast was suppressed. */
static bool hysteresis(struct run *r, bool policy)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = begin(r, FEE_STEP_HYSTERESIS);
	int64_t last = st->last_set_fee_ppm >= 0 ? st->last_set_fee_ppm
						 : r->current;
	double band = p->gossip_hysteresis_pct * (double)last;
	int64_t diff = r->fee > last ? r->fee - last : last - r->fee;

	num(s, "last_broadcast_ppm", (double)last);
	num(s, "band_ppm", band);
	num(s, "last_class", st->last_class);
	num(s, "class", r->cls);
	if (r->fee == r->current) {
		s->reason = "no_change";
		return false;
	}
	if (policy) {
		s->reason = "bypassed_policy";
		return false;
	}
	/* Coarse classes, not reason strings (defect 10). */
	if (class_changed(r)) {
		uint32_t lc = st->last_class;
		s->reason = lc == FEE_CLASS_CONGESTION ||
				    lc == FEE_CLASS_FIRE_SALE ||
				    lc == FEE_CLASS_PROBE
				? "critical_exit"
				: "class_change";
		return false;
	}
	if (last <= 1) {
		s->reason = "last_fee_low";
		return false;
	}
	if (r->fee <= 1) {
		s->reason = "new_fee_low";
		return false;
	}
	if ((double)diff > band) {
		s->reason = "beyond_band";
		return false;
	}
	if (r->d->steps[FEE_STEP_BOUNDS].evaluated && rail_violation(r)) {
		s->reason = "rail_violation";
		return false;
	}
	s->applied = true;
	s->reason = "within_band";
	st->pending_target_ppm = r->fee;
	num(s, "pending_target_ppm", (double)r->fee);
	r->fee = r->current;
	end(r, s);
	return true;
}

/* ---- commit ---- */

static void record_observation(struct run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_state *st = r->st;
	uint32_t cap = max_obs(p);

	/* Ring of at most max_observations: drop the oldest beyond it. */
	while (st->n_obs >= cap)
		st->n_obs--;
	st->obs[st->obs_head] = r->cand;
	st->obs_head = (st->obs_head + 1) % FEE_CTL_MAX_OBS;
	st->n_obs++;
	if (st->n_obs == 1 && st->ema_revenue_sat_per_hour == 0)
		st->ema_revenue_sat_per_hour = r->cand.revenue_sat_per_hour;
	else
		st->ema_revenue_sat_per_hour =
		    p->ema_alpha * r->cand.revenue_sat_per_hour +
		    (1 - p->ema_alpha) * st->ema_revenue_sat_per_hour;
	r->d->observation_recorded = true;
	r->d->observation = r->cand;
}

static void finish_skips(struct run *r)
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

const char *fee_ctl_step(const struct fee_ctl_params *p,
			 struct fee_ctl_state *st,
			 const struct fee_ctl_obs *obs, uint64_t now,
			 struct rng *rng, struct fee_ctl_decision *d)
{
	struct run r = {.p = p, .st = st, .o = obs, .now = now, .rng = rng,
			.d = d};
	struct fee_ctl_step_rec *s;
	enum fee_ctl_strategy strat = obs->policy.strategy;
	bool policy = false, dynamic = false, suppressed = false;
	bool close_window = false, idempotent = false;
	uint32_t old_class;
	int64_t base;
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
	/* A fresh row is seeded from the evidence (defect 14): the hint
	 * (the neighbours' fee), else the live fee unless it is Core
	 * Lightning's stock pair, which nobody chose. Passive channels are
	 * never touched, not even to seed. */
	if (st->version == 0 && strat != FEE_CTL_PASSIVE) {
		int64_t prior = -1;
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
		fee_ctl_state_init(p, st, prior);
		d->seed_prior_ppm = st->prior_mean_ppm;
	}

	old_class = st->last_class;
	r.current = obs->chain_fee_ppm;
	r.fee = r.current;
	r.outbound = (double)obs->local_sat / (double)obs->capacity_sat;
	r.days_open = days_between(obs->opened_sec, now);
	r.days_idle = obs->last_forward_sec
			  ? days_between(obs->last_forward_sec, now)
			  : r.days_open;
	r.virgin = obs->opener == PNL_OPENER_REMOTE &&
		   obs->lifetime_out_count == 0;
	base = p->base_fee_msat >= 0 ? p->base_fee_msat : obs->chain_base_msat;

	/* POLICY */
	s = begin(&r, FEE_STEP_POLICY);
	num(s, "strategy", strat);
	num(s, "target_ppm", (double)obs->policy.fee_ppm_target);
	switch (strat) {
	case FEE_CTL_PASSIVE:
		s->applied = true;
		s->reason = "passive";
		decide(&r, FEE_STEP_POLICY, "passive");
		d->skip_reason = "policy_passive";
		finish_skips(&r);
		return NULL;
	case FEE_CTL_STATIC:
		if (obs->policy.fee_ppm_target < 0) {
			/* Rejected at `revenue-policy set` (defect 37); if
			 * one slips through, hold rather than silently
			 * turning dynamic. */
			s->applied = true;
			s->reason = "static_no_target";
			decide(&r, FEE_STEP_POLICY, s->reason);
			d->skip_reason = "policy_static";
			finish_skips(&r);
			return NULL;
		}
		r.fee = clampi(obs->policy.fee_ppm_target, 0,
			       p->abs_max_fee_ppm);
		s->reason = "static_target";
		policy = true;
		break;
	case FEE_CTL_HIVE:
		r.fee = clampi(p->hive_fee_ppm, 0, p->abs_max_fee_ppm);
		s->reason = "hive_fee";
		policy = true;
		break;
	case FEE_CTL_DYNAMIC:
		s->reason = "dynamic";
		dynamic = true;
		break;
	}
	if (policy) {
		s->applied = true;
		r.cls = FEE_CLASS_POLICY;
		d->enforce_limits = false; /* defects 3 and 4 */
		decide(&r, FEE_STEP_POLICY, s->reason);
	}
	end(&r, s);
	if (st->last_broadcast_sec == 0)
		st->last_broadcast_sec = now;

	/* EXTERNAL */
	s = begin(&r, FEE_STEP_EXTERNAL);
	num(s, "last_set_fee_ppm", (double)st->last_set_fee_ppm);
	num(s, "live_fee_ppm", (double)obs->chain_fee_ppm);
	num(s, "last_set_base_msat", (double)st->last_set_base_msat);
	num(s, "live_base_msat", (double)obs->chain_base_msat);
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
		r.fee = r.current;
		r.cls = FEE_CLASS_EXTERNAL;
		d->action = FEE_CTL_ADOPT_EXTERNAL;
		d->cls = FEE_CLASS_EXTERNAL;
		d->fee_ppm = r.current;
		d->base_fee_msat = obs->chain_base_msat;
		decide(&r, FEE_STEP_EXTERNAL, s->reason);
		end(&r, s);
		finish_skips(&r);
		return NULL;
	}
	if (st->external_adopted_sec &&
	    now < st->external_adopted_sec + p->external_hold_sec) {
		num(s, "hold_until_sec",
		    (double)(st->external_adopted_sec + p->external_hold_sec));
		s->applied = true;
		s->reason = "external_hold";
		r.fee = r.current;
		d->cls = FEE_CLASS_EXTERNAL;
		d->skip_reason = "external_hold";
		decide(&r, FEE_STEP_EXTERNAL, s->reason);
		end(&r, s);
		finish_skips(&r);
		return NULL;
	}
	s->reason = st->last_set_fee_ppm >= 0 ? "in_sync" : "no_history";
	end(&r, s);

	if (dynamic) {
		observe(&r);
		vegas_update(&r);
		bounds(&r);
		congestion(&r);
		if (!r.decided)
			probe(&r);
		if (!r.decided)
			fire_sale(&r);
		if (!r.decided) {
			thompson(&r);
			if (!r.waiting)
				cold_start(&r);
			scarcity(&r);
		}
		if (r.cls != FEE_CLASS_PROBE && r.cls != FEE_CLASS_FIRE_SALE)
			d->enforce_limits = true;
		else
			d->enforce_limits = false; /* defect 3 */
	} else {
		static const char *const why = "policy_fee";
		skip(&r, FEE_STEP_BOUNDS, why);
		skip(&r, FEE_STEP_CONGESTION, why);
		skip(&r, FEE_STEP_VEGAS, why);
		skip(&r, FEE_STEP_PROBE, why);
		skip(&r, FEE_STEP_FIRE_SALE, why);
		skip(&r, FEE_STEP_THOMPSON, why);
		skip(&r, FEE_STEP_COLD_START, why);
		skip(&r, FEE_STEP_SCARCITY, why);
	}
	r.fee = clampi(r.fee, 0, p->abs_max_fee_ppm);

	/* MIN_CHANGE, HYSTERESIS */
	suppressed = min_change(&r, policy);
	if (suppressed) {
		d->decided_by = FEE_STEP_MIN_CHANGE;
		d->reason = "below_min_change";
		d->skip_reason = "fee_unchanged";
		skip(&r, FEE_STEP_HYSTERESIS, "preempted");
		r.d->steps[FEE_STEP_HYSTERESIS].preempted_by =
		    FEE_STEP_MIN_CHANGE;
	} else {
		suppressed = hysteresis(&r, policy);
		if (suppressed) {
			d->decided_by = FEE_STEP_HYSTERESIS;
			d->reason = "gossip_hysteresis";
			d->skip_reason = "gossip_hysteresis";
		}
	}

	/* IDEMPOTENT */
	s = begin(&r, FEE_STEP_IDEMPOTENT);
	if (!suppressed) {
		if (r.fee == r.current && base == obs->chain_base_msat) {
			idempotent = true;
			s->applied = true;
			s->reason = "idempotent";
			if (r.waiting && r.cls == FEE_CLASS_NORMAL) {
				d->skip_reason = r.waiting_reason;
			} else {
				d->skip_reason =
				    policy && strat == FEE_CTL_STATIC
					? "policy_static"
				    : policy ? "policy_hive"
					     : "idempotent";
				decide(&r, FEE_STEP_IDEMPOTENT, "idempotent");
				close_window = true;
			}
		} else {
			s->reason = r.fee == r.current ? "base_fee_update"
						       : "changed";
			if (r.fee == r.current) {
				s->applied = true;
				decide(&r, FEE_STEP_IDEMPOTENT,
				       "base_fee_update");
			}
			d->action = FEE_CTL_SET;
		}
	} else {
		s->reason = "suppressed";
	}
	num(s, "fee_ppm", (double)r.fee);
	num(s, "base_fee_msat", (double)base);
	num(s, "live_fee_ppm", (double)r.current);
	num(s, "live_base_msat", (double)obs->chain_base_msat);
	end(&r, s);

	/* REFRESH: dynamic channels only; a policy fee is exact. */
	if (!dynamic) {
		skip(&r, FEE_STEP_REFRESH, "policy_fee");
		goto commit;
	}
	s = begin(&r, FEE_STEP_REFRESH);
	num(s, "since_broadcast_sec",
	    (double)(now > st->last_broadcast_sec ? now - st->last_broadcast_sec
						  : 0));
	if (d->action != FEE_CTL_NO_CHANGE || r.cls != FEE_CLASS_NORMAL) {
		s->reason = "not_needed";
	} else if (!p->gossip_refresh_sec ||
		   now < st->last_broadcast_sec + p->gossip_refresh_sec) {
		s->reason = "fresh";
	} else {
		int32_t dir = st->refresh_dir >= 0 ? 1 : -1;
		int64_t cand = r.current + dir;
		if (cand < r.floor || cand > r.ceiling) {
			dir = -dir;
			cand = r.current + dir;
		}
		if (cand < r.floor || cand > r.ceiling || cand < 0) {
			s->reason = "no_room";
		} else {
			/* Alternate the direction so refreshes never
			 * ratchet the fee. */
			st->refresh_dir = -dir;
			r.fee = cand;
			d->action = FEE_CTL_SET;
			d->skip_reason = NULL;
			s->applied = true;
			s->reason = "gossip_refresh";
			decide(&r, FEE_STEP_REFRESH, s->reason);
			num(s, "nudge_ppm", dir);
		}
	}
	end(&r, s);

commit:
	d->fee_ppm = r.fee;
	d->cls = r.cls;
	d->base_fee_msat = base;
	if (d->action == FEE_CTL_SET) {
		close_window = true;
		d->skip_reason = NULL;
		st->last_set_fee_ppm = r.fee;
		st->last_set_base_msat = base;
		st->last_broadcast_sec = now;
		st->pending_target_ppm = -1;
	} else {
		d->fee_ppm = r.current;
		d->base_fee_msat = obs->chain_base_msat;
	}
	if (d->action == FEE_CTL_SET || idempotent)
		st->last_class = r.cls;
	if (close_window) {
		/* Probe and fire-sale fees are artificial: a window spent at
		 * one says nothing about the revenue curve. */
		if (dynamic && r.have_obs && old_class != FEE_CLASS_PROBE &&
		    old_class != FEE_CLASS_FIRE_SALE)
			record_observation(&r);
		st->last_update_sec = now;
		st->aimd_seen_failures = 0;
		st->aimd_seen_forwards = 0;
	}
	if (r.first_run && dynamic && st->last_update_sec == 0)
		st->last_update_sec = now;
	finish_skips(&r);
	return NULL;
}

/* ---- serialisation ---- */

struct ser {
	bool reading;
	double *out;	  /* writing: NULL to count */
	const double *in; /* reading */
	size_t pos, cap;
	const char *err;
};

#define EXACT_MAX 9007199254740992.0 /* 2^53 */

static bool ser_num(struct ser *s, double *v, double lo, double hi,
		    bool integral)
{
	if (s->err)
		return false;
	if (s->reading) {
		double x;
		if (s->pos >= s->cap) {
			s->err = "fee_ctl: serialised state too short";
			return false;
		}
		x = s->in[s->pos++];
		if (!isfinite(x) || x < lo || x > hi ||
		    (integral && x != floor(x))) {
			s->err = "fee_ctl: serialised value out of range";
			return false;
		}
		*v = x;
		return true;
	}
	if (s->out && s->pos < s->cap)
		s->out[s->pos] = *v;
	s->pos++;
	return true;
}

static void f_d(struct ser *s, double *v)
{
	ser_num(s, v, -1e300, 1e300, false);
}

static void f_u64(struct ser *s, uint64_t *v)
{
	double x = (double)*v;
	if (ser_num(s, &x, 0, EXACT_MAX, true) && s->reading)
		*v = (uint64_t)x;
}

static void f_i64(struct ser *s, int64_t *v)
{
	double x = (double)*v;
	if (ser_num(s, &x, -EXACT_MAX, EXACT_MAX, true) && s->reading)
		*v = (int64_t)x;
}

static void f_u32(struct ser *s, uint32_t *v)
{
	double x = (double)*v;
	if (ser_num(s, &x, 0, UINT32_MAX, true) && s->reading)
		*v = (uint32_t)x;
}

static void f_i32(struct ser *s, int32_t *v)
{
	double x = (double)*v;
	if (ser_num(s, &x, INT32_MIN, INT32_MAX, true) && s->reading)
		*v = (int32_t)x;
}

/* One walk serves both directions, so the layout cannot drift between
 * writer and reader. Writing never modifies @st. */
static void visit(struct ser *s, struct fee_ctl_state *st)
{
	uint32_t n;

	f_u32(s, &st->version);
	if (s->reading && !s->err && st->version != FEE_CTL_STATE_VERSION) {
		s->err = "fee_ctl: unknown state version";
		return;
	}
	f_i64(s, &st->last_set_fee_ppm);
	f_i64(s, &st->last_set_base_msat);
	f_u64(s, &st->last_broadcast_sec);
	f_u64(s, &st->last_update_sec);
	f_u32(s, &st->last_class);
	f_i64(s, &st->pending_target_ppm);
	f_i32(s, &st->refresh_dir);
	f_u64(s, &st->external_adopted_sec);
	f_d(s, &st->prior_mean_ppm);
	f_d(s, &st->prior_std_ppm);
	f_d(s, &st->ema_revenue_sat_per_hour);
	f_d(s, &st->aimd_modifier);
	f_u32(s, &st->aimd_active);
	f_u32(s, &st->aimd_failures);
	f_u32(s, &st->aimd_successes);
	f_u32(s, &st->aimd_seen_failures);
	f_u32(s, &st->aimd_seen_forwards);
	f_u64(s, &st->aimd_last_decrease_sec);
	f_d(s, &st->vegas_intensity);
	f_u32(s, &st->vegas_consecutive);
	f_u64(s, &st->vegas_last_sample_sec);
	f_u64(s, &st->vegas_decayed_sec);
	f_u32(s, &st->congestion_active);
	f_i64(s, &st->congestion_entry_fee_ppm);
	f_u32(s, &st->congestion_quiet);
	f_d(s, &st->htlc_util_ema);
	f_u64(s, &st->probe_started_sec);
	f_u32(s, &st->probe_attempts);
	f_u64(s, &st->probe_last_end_sec);
	f_u64(s, &st->probe_success_sec);

	n = st->n_obs;
	f_u32(s, &n);
	if (s->err)
		return;
	if (s->reading) {
		if (n > FEE_CTL_MAX_OBS) {
			s->err = "fee_ctl: too many observations";
			return;
		}
		for (uint32_t i = 0; i < n; i++) {
			f_d(s, &st->obs[i].fee_ppm);
			f_d(s, &st->obs[i].revenue_sat_per_hour);
			f_d(s, &st->obs[i].weight);
			f_d(s, &st->obs[i].time_sec);
			ser_num(s, &st->obs[i].context, 0,
				FEE_CTL_NUM_CTX - 1, true);
		}
		st->n_obs = n;
		st->obs_head = n % FEE_CTL_MAX_OBS;
		if (!s->err && s->pos != s->cap)
			s->err = "fee_ctl: serialised state has trailing data";
	} else {
		for (uint32_t i = 0; i < n; i++) {
			struct fee_ctl_obs_rec *o =
			    (struct fee_ctl_obs_rec *)obs_at(st, i);
			f_d(s, &o->fee_ppm);
			f_d(s, &o->revenue_sat_per_hour);
			f_d(s, &o->weight);
			f_d(s, &o->time_sec);
			f_d(s, &o->context);
		}
	}
}

size_t fee_ctl_state_serialised_len(const struct fee_ctl_state *st)
{
	struct ser s = {.reading = false};

	visit(&s, (struct fee_ctl_state *)st);
	return s.pos;
}

size_t fee_ctl_state_serialise(const struct fee_ctl_state *st, double *out,
			       size_t cap)
{
	struct ser s = {.reading = false, .out = out, .cap = cap};
	size_t need = fee_ctl_state_serialised_len(st);

	if (!out || cap < need)
		return 0;
	visit(&s, (struct fee_ctl_state *)st);
	return s.pos;
}

const char *fee_ctl_state_deserialise(struct fee_ctl_state *st,
				      const double *in, size_t n)
{
	struct fee_ctl_state tmp;
	struct ser s = {.reading = true, .in = in, .cap = n};

	if (!in || n == 0)
		return "fee_ctl: empty serialised state";
	memset(&tmp, 0, sizeof(tmp));
	visit(&s, &tmp);
	if (s.err)
		return s.err;
	if (tmp.aimd_modifier <= 0 || tmp.prior_std_ppm < 0)
		return "fee_ctl: serialised value out of range";
	*st = tmp;
	return NULL;
}
