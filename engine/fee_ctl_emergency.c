/* The fee controller's emergency rules: the Vegas reflex to a mempool
 * spike (its intensity here, its effect on the floor in
 * fee_ctl_bounds.c), bounded congestion episodes, the zero-fee probe of an
 * idle channel and the opt-in fire sale. Each of the last three may
 * decide the fee and so pre-empt learning. The steps' place in the
 * priority order: fee_ctl.h.
 *
 * Where this departs from the reference H line, on purpose:
 *  - probe and fire-sale fees are not clamped into [min, max] (defect 3;
 *    fee_ctl_order.c turns the limits off for them);
 *  - the Vegas intensity decays before the spike check (defect 6), and
 *    its multiplier reaches the floor (defect 5);
 *  - congestion episodes are bounded (defect 15). */
#include "engine/fee_ctl_internal.h"
#include <math.h>

/* ---- VEGAS (state update; the floor effect is applied in bounds) ---- */

void fee_ctl_vegas(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_VEGAS);
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
				note(s, "early_draw", u);
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
	note(s, "mempool_satvb", o->mempool_satvb);
	note(s, "mempool_ma_satvb", o->mempool_ma_satvb);
	note(s, "ratio", ratio);
	note(s, "consecutive", st->vegas_consecutive);
	note(s, "boost", boost);
	note(s, "decay_factor", decay);
	note(s, "intensity_before", before);
	note(s, "intensity", st->vegas_intensity);
	note(s, "multiplier", r->vegas_mult);
}

/* ---- CONGESTION ---- */

void fee_ctl_congestion(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_CONGESTION);
	int64_t cap_step, cap_episode, target;

	note(s, "htlc_util", r->o->htlc_util);
	note(s, "util_ema", st->htlc_util_ema);
	if (!r->o->congested) {
		if (!st->congestion_active) {
			s->reason = "not_congested";
			return;
		}
		st->congestion_quiet++;
		note(s, "quiet_cycles", st->congestion_quiet);
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
		step_decide(r, FEE_STEP_CONGESTION, "congestion_cooldown");
		s->reason = "congestion_cooldown";
		step_end(r, s);
		return;
	}
	if (!st->congestion_active) {
		st->congestion_active = 1;
		st->congestion_entry_fee_ppm = imax64(1, r->current);
		s->reason = "congestion_entry";
	} else {
		s->reason = "congestion_episode";
	}
	st->congestion_quiet = 0;
	/* Bounded steps, and a bounded episode (the 101 -> 2612 ppm runaway
	 * of the reference, defect 15). */
	cap_step = imax64(to_ppm((double)r->current * p->congestion_step_mult),
			  r->current + p->congestion_step_ppm);
	cap_episode = to_ppm((double)st->congestion_entry_fee_ppm *
			     p->congestion_episode_mult);
	target = imin64(r->ceiling, imin64(cap_step, cap_episode));
	target = imax64(target, r->floor);
	note(s, "entry_fee_ppm", (double)st->congestion_entry_fee_ppm);
	note(s, "step_cap_ppm", (double)cap_step);
	note(s, "episode_cap_ppm", (double)cap_episode);
	note(s, "ceiling_ppm", (double)r->ceiling);
	r->fee = target;
	r->cls = FEE_CLASS_CONGESTION;
	s->applied = true;
	step_decide(r, FEE_STEP_CONGESTION, s->reason);
	step_end(r, s);
}

/* ---- PROBE ---- */

void fee_ctl_probe(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_PROBE);
	bool idle;

	note(s, "attempts", st->probe_attempts);
	note(s, "days_idle", r->days_idle);
	note(s, "outbound_ratio", r->outbound);
	if (st->probe_started_sec) {
		note(s, "age_sec",
		     (double)(r->now > st->probe_started_sec
				  ? r->now - st->probe_started_sec
				  : 0));
		note(s, "window_forwards", o->win_forwards);
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
		step_decide(r, FEE_STEP_PROBE, s->reason);
		step_end(r, s);
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
	step_decide(r, FEE_STEP_PROBE, s->reason);
	step_end(r, s);
}

/* ---- FIRE SALE ---- */

void fee_ctl_fire_sale(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_FIRE_SALE);
	bool eligible;

	note(s, "days_open", r->days_open);
	note(s, "roi", o->roi);
	note(s, "marginal_roi", o->marginal_roi);
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
	step_decide(r, FEE_STEP_FIRE_SALE, s->reason);
	step_end(r, s);
}
