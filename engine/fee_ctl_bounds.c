/* The fee controller's floors and ceilings: BOUNDS computes the floor
 * (the chain-cost floor with its multipliers, the rebalance-cost and
 * balance floors, the Vegas multiplier) and the ceiling (the idle cut,
 * policy multipliers); COLD_START caps a new channel's fee and ceiling;
 * SCARCITY prices depleted outbound and HTLC slots and ends the normal
 * path with the clamp to [floor, ceiling]. The steps' place in the
 * priority order: fee_ctl.h.
 *
 * Where this departs from the reference H line, on purpose:
 *  - the Vegas multiplier is applied to the floor (defect 5);
 *  - the chain-cost floor honours the opener (defect 7), and multipliers
 *    touch only the chain-cost term, so min_fee_ppm is never undercut
 *    (defect 8);
 *  - the slot-scarcity threshold is the configured one (defect 11). */
#include "engine/fee_ctl_internal.h"
#include "engine/num.h"
#include <math.h>
#include <string.h>

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

void fee_ctl_bounds(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_BOUNDS);
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
	floor_pre = imax64(imax64(min_term, econ), imax64(reb, bal));

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

	note(s, "satvb", satvb);
	note(s, "open_cost_sat", open_sat);
	note(s, "close_cost_sat", close_sat);
	note(s, "amortise_daily_sat", daily_vol);
	note(s, "replacement_ppm", replacement);
	note(s, "risk_premium_ppm", risk);
	note(s, "hold_premium", hold);
	note(s, "chain_floor_ppm", chain);
	note(s, "flow_multiplier", flow_mult);
	note(s, "bucket_multiplier", bucket);
	note(s, "econ_floor_ppm", (double)econ);
	note(s, "min_term_ppm", (double)min_term);
	note(s, "balanced_router", balanced_router);
	note(s, "rebalance_floor_ppm", (double)reb);
	note(s, "balance_floor_ppm", (double)bal);
	note(s, "virgin_amnesty", r->virgin);
	note(s, "idle_ceiling_cut", idle_cut);
	note(s, "floor_pre_vegas_ppm", (double)floor_pre);

	/* The Vegas reflex multiplies the whole floor (defect 5). */
	r->floor = floor_pre;
	if (r->vegas_active) {
		r->floor = to_ppm((double)floor_pre * r->vegas_mult);
		vs->applied = r->floor > floor_pre;
		if (vs->applied && strcmp(vs->reason, "calm") == 0)
			vs->reason = "decaying";
	}
	note(vs, "floor_before_ppm", (double)floor_pre);
	note(vs, "floor_after_ppm", (double)r->floor);

	/* A protective floor wins over the ceiling. */
	if (r->floor > ceiling)
		ceiling = r->floor + p->protective_ceiling_headroom_ppm;
	r->floor = clampi(r->floor, 0, p->abs_max_fee_ppm);
	r->ceiling = clampi(ceiling, r->floor, p->abs_max_fee_ppm);
	note(s, "floor_ppm", (double)r->floor);
	note(s, "ceiling_ppm", (double)r->ceiling);
	r->d->floor_ppm = r->floor;
	r->d->ceiling_ppm = r->ceiling;
	s->applied = r->current < r->floor || r->current > r->ceiling;
	step_end(r, s);
}

/* ---- COLD START ---- */

void fee_ctl_cold_start(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_COLD_START);
	int64_t cap;

	note(s, "total_forwards", (double)r->o->total_forward_count);
	if (r->o->total_forward_count >= p->cold_start_forwards) {
		s->reason = "warm";
		return;
	}
	/* A new channel prices low enough to discover demand. */
	cap = r->floor + p->cold_start_headroom_ppm;
	r->ceiling = imin64(r->ceiling,
			    imax64(p->cold_start_ceiling_min_ppm, cap));
	r->ceiling = imax64(r->ceiling, r->floor);
	note(s, "cap_ppm", (double)cap);
	note(s, "ceiling_ppm", (double)r->ceiling);
	r->d->ceiling_ppm = r->ceiling;
	s->reason = "cold_start";
	if (r->fee > cap) {
		r->fee = cap;
		s->applied = true;
		r->d->reason = "cold_start";
		r->d->decided_by = FEE_STEP_COLD_START;
	}
	step_end(r, s);
}

/* ---- SCARCITY (+ the final clamp of the normal path) ---- */

void fee_ctl_scarcity(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_SCARCITY);
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
	note(s, "outbound_ratio", r->outbound);
	note(s, "threshold", thr);
	note(s, "balance_multiplier", bal);
	note(s, "util_ema", r->st->htlc_util_ema);
	note(s, "slot_multiplier", slot);
	note(s, "virgin", r->virgin);
	before = r->fee;
	r->fee = clampi(r->fee, r->floor, r->ceiling);
	if (r->fee != before && !s->applied) {
		/* Only the bounds moved it (the window is still open, or a
		 * bound changed since): say so. */
		r->d->decided_by = FEE_STEP_BOUNDS;
		r->d->reason = r->fee > before ? "floor_raise" : "ceiling_cut";
	}
	note(s, "clamp_floor_ppm", (double)r->floor);
	note(s, "clamp_ceiling_ppm", (double)r->ceiling);
	step_end(r, s);
}
