/* What the files of the fee controller share, and nothing else includes:
 * the run of one fee_ctl_step() as it moves through the priority order,
 * the vocabulary every step uses to record itself in the decision, and
 * the entry point of each step. fee_ctl.h documents the order and names
 * the file of each step; fee_ctl_order.c runs it. */
#ifndef HIVE_ENGINE_FEE_CTL_INTERNAL_H
#define HIVE_ENGINE_FEE_CTL_INTERNAL_H
#include "engine/fee_ctl.h"
#include <stdbool.h>
#include <stdint.h>

/* One run of fee_ctl_step(): its inputs, what the earlier steps found and
 * the candidate fee the later ones refine. Lives on fee_ctl_step()'s
 * stack for one call. */
struct fee_ctl_run {
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
	int64_t base;	     /* base fee to set: params, or the live one */
	bool policy;	     /* a static or hive policy sets the fee */
	bool dynamic;	     /* the controller prices this channel */
	uint32_t old_class;  /* st->last_class when the run started */

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

	/* Outcome of IDEMPOTENT. */
	bool idempotent;     /* nothing to change: the class is confirmed */
	bool close_window;   /* record the window's observation, restart */
};

/* ---- numbers ---- */

static inline int64_t imax64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static inline int64_t imin64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ppm values are whole numbers; truncate like the reference's int(), but
 * never past the int64 range. */
static inline int64_t to_ppm(double x)
{
	if (!(x > 0))
		return 0;
	if (x > 1e15)
		return (int64_t)1e15;
	return (int64_t)x;
}

/* i-th oldest observation of the state's ring. */
static inline const struct fee_ctl_obs_rec *
obs_at(const struct fee_ctl_state *st, uint32_t i)
{
	uint32_t idx = (st->obs_head + FEE_CTL_MAX_OBS - st->n_obs + i) %
		       FEE_CTL_MAX_OBS;
	return &st->obs[idx];
}

/* ---- recording a step in the decision ---- */

/* Note a number the step used (ignored beyond FEE_CTL_MAX_NUMS). */
static inline void note(struct fee_ctl_step_rec *s, const char *name,
			double v)
{
	if (s->n_nums < FEE_CTL_MAX_NUMS) {
		s->nums[s->n_nums].name = name;
		s->nums[s->n_nums].value = v;
		s->n_nums++;
	}
}

/* The step @id is reached: its record, with the fee entering it. */
static inline struct fee_ctl_step_rec *
step_begin(struct fee_ctl_run *r, enum fee_ctl_step_id id)
{
	struct fee_ctl_step_rec *s = &r->d->steps[id];

	s->evaluated = true;
	s->fee_in_ppm = r->fee;
	s->fee_out_ppm = r->fee;
	return s;
}

/* ... and the fee leaving it. */
static inline void step_end(struct fee_ctl_run *r,
			    struct fee_ctl_step_rec *s)
{
	s->fee_out_ppm = r->fee;
}

/* The step @id is not reached, for @reason. */
static inline void step_skip(struct fee_ctl_run *r,
			     enum fee_ctl_step_id id, const char *reason)
{
	struct fee_ctl_step_rec *s = &r->d->steps[id];

	s->evaluated = false;
	s->reason = reason;
	s->fee_in_ppm = s->fee_out_ppm = r->fee;
}

/* The step @id fixes the fee: the pricing steps after it do not run. */
static inline void step_decide(struct fee_ctl_run *r,
			       enum fee_ctl_step_id id, const char *reason)
{
	r->decided = true;
	r->d->decided_by = id;
	r->d->reason = reason;
}

/* ---- the steps, by file, in the order fee_ctl_step() calls them ---- */

/* fee_ctl_learn.c: the observation window (the candidate observation,
 * waiting or not), the AIMD event counters and the HTLC utilisation EMA.
 * Runs first on a dynamic channel. */
void fee_ctl_observe(struct fee_ctl_run *r);

/* fee_ctl_emergency.c: the Vegas intensity (decay, then the spike check);
 * sets r->vegas_mult for the floor. */
void fee_ctl_vegas(struct fee_ctl_run *r);

/* fee_ctl_bounds.c: the floor (Vegas included) and the ceiling. */
void fee_ctl_bounds(struct fee_ctl_run *r);

/* fee_ctl_emergency.c: each may decide the fee (r->decided). */
void fee_ctl_congestion(struct fee_ctl_run *r);
void fee_ctl_probe(struct fee_ctl_run *r);
void fee_ctl_fire_sale(struct fee_ctl_run *r);

/* fee_ctl_learn.c: AIMD, then the Thompson sample (or a hold while the
 * window is waiting), the anchor, the profit adjustment and damping. */
void fee_ctl_thompson(struct fee_ctl_run *r);

/* fee_ctl_bounds.c: the cold-start cap, then the scarcity premium and the
 * final clamp to [floor, ceiling]. */
void fee_ctl_cold_start(struct fee_ctl_run *r);
void fee_ctl_scarcity(struct fee_ctl_run *r);

/* fee_ctl_guard.c: each returns true when it suppressed the change (the
 * fee is back at the live one and the decision says why). */
bool fee_ctl_min_change(struct fee_ctl_run *r);
bool fee_ctl_hysteresis(struct fee_ctl_run *r);

/* fee_ctl_guard.c: no change at all, a base fee update, or a set; fills
 * r->idempotent and r->close_window. */
void fee_ctl_idempotent(struct fee_ctl_run *r, bool suppressed);

/* fee_ctl_guard.c: the keep-alive nudge of a dynamic channel. */
void fee_ctl_refresh(struct fee_ctl_run *r);

/* fee_ctl_learn.c: append the window's observation to the state's ring
 * (when the window closes). */
void fee_ctl_record_observation(struct fee_ctl_run *r);

#endif
