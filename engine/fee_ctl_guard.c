/* The fee controller's guards against needless channel_updates: the
 * minimum change (MIN_CHANGE), gossip hysteresis around the last
 * broadcast fee (HYSTERESIS), "nothing to do" (IDEMPOTENT) and the
 * keep-alive nudge of a channel that has not broadcast for a day
 * (REFRESH). They run last, on whatever fee the earlier steps chose. The
 * steps' place in the priority order: fee_ctl.h.
 *
 * Where this departs from the reference H line, on purpose: hysteresis
 * compares a coarse decision class, not reason strings (defect 10). */
#include "engine/fee_ctl_internal.h"

/* The live fee is outside [floor, ceiling]: the change must go out. */
static bool rail_violation(const struct fee_ctl_run *r)
{
	return r->current < r->floor || r->current > r->ceiling;
}

/* The coarse decision class is not the last broadcast one. */
static bool class_changed(const struct fee_ctl_run *r)
{
	return r->st->last_class != FEE_CLASS_NONE &&
	       r->st->last_class != (uint32_t)r->cls;
}

/* ---- MIN_CHANGE ---- */

bool fee_ctl_min_change(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_MIN_CHANGE);
	int64_t delta = r->fee > r->current ? r->fee - r->current
					    : r->current - r->fee;
	int64_t need;

	need = r->current < p->min_change_low_fee_ppm
		   ? 1
		   : imax64(p->min_change_ppm,
			    to_ppm((double)r->current * p->min_change_ratio));
	note(s, "delta_ppm", (double)delta);
	note(s, "min_delta_ppm", (double)need);
	if (delta == 0) {
		s->reason = "no_change";
		return false;
	}
	if (r->policy) {
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
	step_end(r, s);
	r->d->decided_by = FEE_STEP_MIN_CHANGE;
	r->d->reason = "below_min_change";
	r->d->skip_reason = "fee_unchanged";
	return true;
}

/* ---- HYSTERESIS ---- */

bool fee_ctl_hysteresis(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_HYSTERESIS);
	int64_t last = st->last_set_fee_ppm >= 0 ? st->last_set_fee_ppm
						 : r->current;
	double band = p->gossip_hysteresis_pct * (double)last;
	int64_t diff = r->fee > last ? r->fee - last : last - r->fee;

	note(s, "last_broadcast_ppm", (double)last);
	note(s, "band_ppm", band);
	note(s, "last_class", st->last_class);
	note(s, "class", r->cls);
	if (r->fee == r->current) {
		s->reason = "no_change";
		return false;
	}
	if (r->policy) {
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
	note(s, "pending_target_ppm", (double)r->fee);
	r->fee = r->current;
	step_end(r, s);
	r->d->decided_by = FEE_STEP_HYSTERESIS;
	r->d->reason = "gossip_hysteresis";
	r->d->skip_reason = "gossip_hysteresis";
	return true;
}

/* ---- IDEMPOTENT ---- */

void fee_ctl_idempotent(struct fee_ctl_run *r, bool suppressed)
{
	const struct fee_ctl_obs *o = r->o;
	struct fee_ctl_decision *d = r->d;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_IDEMPOTENT);

	if (!suppressed) {
		if (r->fee == r->current && r->base == o->chain_base_msat) {
			r->idempotent = true;
			s->applied = true;
			s->reason = "idempotent";
			if (r->waiting && r->cls == FEE_CLASS_NORMAL) {
				d->skip_reason = r->waiting_reason;
			} else {
				if (!r->policy)
					d->skip_reason = "idempotent";
				else if (o->policy.strategy == FEE_CTL_STATIC)
					d->skip_reason = "policy_static";
				else
					d->skip_reason = "policy_hive";
				step_decide(r, FEE_STEP_IDEMPOTENT,
					    "idempotent");
				r->close_window = true;
			}
		} else {
			s->reason = r->fee == r->current ? "base_fee_update"
							 : "changed";
			if (r->fee == r->current) {
				s->applied = true;
				step_decide(r, FEE_STEP_IDEMPOTENT,
					    "base_fee_update");
			}
			d->action = FEE_CTL_SET;
		}
	} else {
		s->reason = "suppressed";
	}
	note(s, "fee_ppm", (double)r->fee);
	note(s, "base_fee_msat", (double)r->base);
	note(s, "live_fee_ppm", (double)r->current);
	note(s, "live_base_msat", (double)o->chain_base_msat);
	step_end(r, s);
}

/* ---- REFRESH ---- */

void fee_ctl_refresh(struct fee_ctl_run *r)
{
	const struct fee_ctl_params *p = r->p;
	struct fee_ctl_state *st = r->st;
	struct fee_ctl_decision *d = r->d;
	uint64_t now = r->now;
	struct fee_ctl_step_rec *s = step_begin(r, FEE_STEP_REFRESH);

	note(s, "since_broadcast_sec",
	     (double)(now > st->last_broadcast_sec
			  ? now - st->last_broadcast_sec
			  : 0));
	if (d->action != FEE_CTL_NO_CHANGE || r->cls != FEE_CLASS_NORMAL) {
		s->reason = "not_needed";
	} else if (!p->gossip_refresh_sec ||
		   now < st->last_broadcast_sec + p->gossip_refresh_sec) {
		s->reason = "fresh";
	} else {
		int32_t dir = st->refresh_dir >= 0 ? 1 : -1;
		int64_t cand = r->current + dir;
		if (cand < r->floor || cand > r->ceiling) {
			dir = -dir;
			cand = r->current + dir;
		}
		if (cand < r->floor || cand > r->ceiling || cand < 0) {
			s->reason = "no_room";
		} else {
			/* Alternate the direction so refreshes never
			 * ratchet the fee. */
			st->refresh_dir = -dir;
			r->fee = cand;
			d->action = FEE_CTL_SET;
			d->skip_reason = NULL;
			s->applied = true;
			s->reason = "gossip_refresh";
			step_decide(r, FEE_STEP_REFRESH, s->reason);
			note(s, "nudge_ppm", dir);
		}
	}
	step_end(r, s);
}
