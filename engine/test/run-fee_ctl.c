/* Unit tests for engine/fee_ctl.c.
 *
 *  - A table: every step of the priority order decides at least once
 *    (reachability), with hand-computed fees.
 *  - A pre-emption table: with the conditions of two steps true at once,
 *    the higher one decides and the lower one is not reached (or is
 *    deferred).
 *  - One test per engine-level reference defect of spec §7.1 (3 to 15),
 *    named after its number.
 *  - Fixed-seed property loops: fees stay within the rails and bounds,
 *    the same seed gives the same decision, and the learner converges to
 *    the peak of a synthetic revenue curve (300 ppm) from below and above
 *    and on a busy channel.
 *  - The state: serialise / deserialise round trip that continues
 *    identically (a restart), malformed inputs, a splice, errors.
 *
 * Most table cases start from one warm channel where the Thompson sample
 * is made deterministic (prior std 0, so sample = prior mean): the test
 * then chooses the "sampled" fee by choosing the prior mean. */
#include "engine/fee_ctl.h"
#include "tests/check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000ULL
#define HOUR 3600ULL
#define DAY 86400ULL

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* fee_ctl_step() where the case expects no error: an error is a failed
 * check (so the count only grows when something is wrong). */
static void step(const struct fee_ctl_params *p, struct fee_ctl_state *st,
		 const struct fee_ctl_obs *o, uint64_t now, struct rng *r,
		 struct fee_ctl_decision *d)
{
	const char *err = fee_ctl_step(p, st, o, now, r, d);

	if (err)
		CHECK(false, "unexpected fee_ctl_step error: %s", err);
}

/* The warm baseline:
 *  2 M sat channel, 1 M local (outbound 0.5), we opened it 200 days ago,
 *  live fee 200 ppm / base 1000 msat, balanced, routed an hour ago, 100
 *  forwards ever; the window (2 h, since the last update) saw 5 forwards
 *  and 1 M sat out; break_even; no feerate known; no mempool sample.
 * Bounds: min 10; chain floor (5000 + 3000) / (365 x 1 M) x 1e6 = 21.9
 *  x flow 1 x bucket 1.0 (0.5 in [0.40, 0.60)) -> 21; floor 21; ceiling
 *  5000 (200 < 500: no idle cut).
 * Thompson: prior mean 200, std 0 -> sample 200 -> no change: the
 *  decision is "idempotent". */
static void base(struct fee_ctl_params *p, struct fee_ctl_state *st,
		 struct fee_ctl_obs *o)
{
	fee_ctl_params_default(p);
	p->min_std_ppm = 0;
	fee_ctl_obs_init(o);
	o->capacity_sat = 2000000;
	o->local_sat = 1000000;
	o->opener = PNL_OPENER_LOCAL;
	o->opened_sec = NOW - 200 * DAY;
	o->chain_fee_ppm = 200;
	o->chain_base_msat = 1000;
	o->flow_class = FLOW_BALANCED;
	o->window_in_sat = 100000;
	o->window_out_sat = 100000;
	o->last_forward_sec = NOW - HOUR;
	o->total_forward_count = 100;
	o->lifetime_out_count = 50;
	o->win_out_msat = 1000000000;
	o->win_forwards = 5;
	o->pnl_known = true;
	o->pnl_class = PNL_BREAK_EVEN;
	fee_ctl_state_init(p, st, 200);
	st->prior_std_ppm = 0;
	st->last_set_fee_ppm = 200;
	st->last_update_sec = NOW - 2 * HOUR;
	st->last_broadcast_sec = NOW - 2 * HOUR;
	st->last_class = FEE_CLASS_NORMAL;
}

static void set_fee(struct fee_ctl_state *st, struct fee_ctl_obs *o,
		    int64_t ppm)
{
	o->chain_fee_ppm = ppm;
	st->last_set_fee_ppm = ppm;
}

/* A mempool sample 5x the 24 h average: intensity 1, floor x3. */
static void spike(struct fee_ctl_obs *o)
{
	o->mempool_satvb = 50;
	o->mempool_ma_satvb = 10;
	o->mempool_sample_sec = NOW;
}

/* Idle for 10 days: a probe candidate. */
static void idle(struct fee_ctl_obs *o)
{
	o->last_forward_sec = NOW - 10 * DAY;
}

static void zombie(struct fee_ctl_obs *o)
{
	o->pnl_class = PNL_ZOMBIE;
	o->roi = -0.5;
}

/* ---- the reachability table ---- */

typedef void (*setup_fn)(struct fee_ctl_params *, struct fee_ctl_state *,
			 struct fee_ctl_obs *);

struct step_case {
	const char *name;
	setup_fn setup;
	enum fee_ctl_step_id decided_by;
	enum fee_ctl_action action;
	int64_t fee_ppm;
	enum fee_ctl_class cls;
	const char *reason;
	const char *skip_reason; /* NULL: expect NULL */
	enum fee_ctl_step_id not_reached[6];
	size_t n_not_reached;
};

static void c_baseline(struct fee_ctl_params *p, struct fee_ctl_state *st,
		       struct fee_ctl_obs *o)
{
	base(p, st, o);
}
static void c_passive(struct fee_ctl_params *p, struct fee_ctl_state *st,
		      struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->policy.strategy = FEE_CTL_PASSIVE;
}
static void c_static(struct fee_ctl_params *p, struct fee_ctl_state *st,
		     struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->policy.strategy = FEE_CTL_STATIC;
	o->policy.fee_ppm_target = 123;
}
/* 3 ppm is below min_fee_ppm 10: an explicit policy fee is not clamped. */
static void c_static_low(struct fee_ctl_params *p, struct fee_ctl_state *st,
			 struct fee_ctl_obs *o)
{
	c_static(p, st, o);
	o->policy.fee_ppm_target = 3;
}
static void c_static_high(struct fee_ctl_params *p, struct fee_ctl_state *st,
			  struct fee_ctl_obs *o)
{
	c_static(p, st, o);
	o->policy.fee_ppm_target = 200000;
}
static void c_static_none(struct fee_ctl_params *p, struct fee_ctl_state *st,
			  struct fee_ctl_obs *o)
{
	c_static(p, st, o);
	o->policy.fee_ppm_target = -1;
}
static void c_static_same(struct fee_ctl_params *p, struct fee_ctl_state *st,
			  struct fee_ctl_obs *o)
{
	c_static(p, st, o);
	o->policy.fee_ppm_target = 200;
}
static void c_hive(struct fee_ctl_params *p, struct fee_ctl_state *st,
		   struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->policy.strategy = FEE_CTL_HIVE;
}
/* We set 150; lightningd says 200: someone else changed it. */
static void c_external(struct fee_ctl_params *p, struct fee_ctl_state *st,
		       struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->last_set_fee_ppm = 150;
}
static void c_external_hold(struct fee_ctl_params *p,
			    struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->external_adopted_sec = NOW - HOUR;
	st->last_class = FEE_CLASS_EXTERNAL;
}
/* We set base 0 msat; the live base is 1000. */
static void c_external_base(struct fee_ctl_params *p,
			    struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->base_fee_msat = 0;
	st->last_set_base_msat = 0;
}
/* Sample 230: +30 passes the min-change guard (6) and the 5 % band (10). */
static void c_thompson(struct fee_ctl_params *p, struct fee_ctl_state *st,
		       struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->prior_mean_ppm = 230;
}
/* min_fee 205 > live 200: sample 200 -> clamped to 205. +5 is below the
 * min-change 6 and inside the band 10, but the live fee violates the
 * floor, so both guards stand aside. */
static void c_rail(struct fee_ctl_params *p, struct fee_ctl_state *st,
		   struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->min_fee_ppm = 205;
}
/* Entry: min(ceiling 5000, max(2 x 200, 200 + 250), 4 x 200) = 450. */
static void c_congestion(struct fee_ctl_params *p, struct fee_ctl_state *st,
			 struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->congested = true;
	o->htlc_util = 0.9;
}
/* The episode is on, this cycle is quiet (1 of 2): hold. */
static void c_congestion_hold(struct fee_ctl_params *p,
			      struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->congestion_active = 1;
	st->congestion_entry_fee_ppm = 100;
	st->last_class = FEE_CLASS_CONGESTION;
}
/* Second quiet cycle ends the episode: back to normal at sample 410 from
 * 400; +10 is below the min-change 12 and inside the band 20, but leaving
 * a critical state always broadcasts. */
static void c_congestion_exit(struct fee_ctl_params *p,
			      struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	set_fee(st, o, 400);
	st->prior_mean_ppm = 410;
	st->congestion_active = 1;
	st->congestion_entry_fee_ppm = 100;
	st->congestion_quiet = 1;
	st->last_class = FEE_CLASS_CONGESTION;
}
/* Live 50, min 40, spike: floor 40 x 3 = 120. Sample 50, damped to
 * [25, 75], then the floor lifts it to 120. */
static void c_vegas(struct fee_ctl_params *p, struct fee_ctl_state *st,
		    struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->min_fee_ppm = 40;
	set_fee(st, o, 50);
	st->prior_mean_ppm = 50;
	spike(o);
}
static void c_probe(struct fee_ctl_params *p, struct fee_ctl_state *st,
		    struct fee_ctl_obs *o)
{
	base(p, st, o);
	idle(o);
}
/* A probe running for an hour, no forward yet: stays at 0. */
static void c_probe_active(struct fee_ctl_params *p, struct fee_ctl_state *st,
			   struct fee_ctl_obs *o)
{
	base(p, st, o);
	idle(o);
	set_fee(st, o, 0);
	st->probe_started_sec = NOW - HOUR;
	st->probe_attempts = 1;
	st->last_class = FEE_CLASS_PROBE;
	o->win_forwards = 0;
	o->win_out_msat = 0;
}
/* Forwards at zero fee: success; Thompson samples 200 from 0, damped to
 * +25 (25 % of 0 < 25 ppm): 25 >= floor 21. */
static void c_probe_success(struct fee_ctl_params *p,
			    struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	c_probe_active(p, st, o);
	o->win_forwards = 3;
	o->win_out_msat = 3000000;
}
/* 25 h without a forward: the probe ends; the window (0 forwards, 2 h)
 * is still open, so the fee holds at 0 and the floor lifts it to 21. */
static void c_probe_expired(struct fee_ctl_params *p,
			    struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	c_probe_active(p, st, o);
	st->probe_started_sec = NOW - 25 * HOUR;
}
/* Opt-in fire sale on a 200-day zombie whose probes are used up. */
static void c_fire_sale(struct fee_ctl_params *p, struct fee_ctl_state *st,
			struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->fire_sale_enabled = true;
	idle(o);
	zombie(o);
	st->probe_attempts = 2;
}
/* 100 days old (< 180) and marginal ROI 0.1 > 0.05: recovering, no fire
 * sale. Thompson then prices the zombie at the floor 21, damped from 200
 * by at most 50: 150. */
static void c_momentum(struct fee_ctl_params *p, struct fee_ctl_state *st,
		       struct fee_ctl_obs *o)
{
	c_fire_sale(p, st, o);
	o->opened_sec = NOW - 100 * DAY;
	o->marginal_roi = 0.1;
}
/* 2 forwards ever: fee <= floor 21 + 50 = 71 (sample 240). */
static void c_cold_start(struct fee_ctl_params *p, struct fee_ctl_state *st,
			 struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->total_forward_count = 2;
	st->prior_mean_ppm = 240;
}
/* Outbound 0.1: floor max(10, 21.9 x 2.0 = 43, balance floor 200) = 200;
 * sample 200; scarcity 1 + 2 (1 - 0.1 / 0.35) = 2.428571 -> 485. */
static void c_scarcity(struct fee_ctl_params *p, struct fee_ctl_state *st,
		       struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->local_sat = 200000;
}
/* The same, but the peer opened it and it never routed out: no balance
 * floor, no bucket premium (floor max(10, 3000 / 365 = 8) = 10), no
 * scarcity premium: stays at 200. */
static void c_virgin(struct fee_ctl_params *p, struct fee_ctl_state *st,
		     struct fee_ctl_obs *o)
{
	c_scarcity(p, st, o);
	o->opener = PNL_OPENER_REMOTE;
	o->lifetime_out_count = 0;
}
/* +3 < max(5, 3 % of 200 = 6). */
static void c_min_change(struct fee_ctl_params *p, struct fee_ctl_state *st,
			 struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->prior_mean_ppm = 203;
}
/* +9 passes the guard (6) but is inside 5 % of 200 (10). */
static void c_hysteresis(struct fee_ctl_params *p, struct fee_ctl_state *st,
			 struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->prior_mean_ppm = 209;
}
static void c_beyond_band(struct fee_ctl_params *p, struct fee_ctl_state *st,
			  struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->prior_mean_ppm = 211;
}
/* No chain costs and no min: floor 1. From 2 to 1: the 5 % band is 0.1
 * ppm anyway, but "new fee <= 1" is its own reason to broadcast. */
static void c_fee_one(struct fee_ctl_params *p, struct fee_ctl_state *st,
		      struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->min_fee_ppm = 0;
	p->default_open_cost_sat = 0;
	p->default_close_cost_sat = 0;
	set_fee(st, o, 2);
	st->prior_mean_ppm = 1;
}
/* Base 0 msat configured; the live base 1000 was never set by us. */
static void c_base_fee(struct fee_ctl_params *p, struct fee_ctl_state *st,
		       struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->base_fee_msat = 0;
}
/* Nothing broadcast for 25 h: +1 ppm nudge. */
static void c_refresh(struct fee_ctl_params *p, struct fee_ctl_state *st,
		      struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->last_broadcast_sec = NOW - 25 * HOUR;
}
static void c_waiting_time(struct fee_ctl_params *p, struct fee_ctl_state *st,
			   struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->last_update_sec = NOW - 1800;
	st->prior_mean_ppm = 300; /* would move if sampled */
}
static void c_waiting_forwards(struct fee_ctl_params *p,
			       struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->win_forwards = 1;
	st->prior_mean_ppm = 300;
}
/* 7 h without 3 forwards: the window closes anyway (sample 200). */
static void c_window_max(struct fee_ctl_params *p, struct fee_ctl_state *st,
			 struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->win_forwards = 0;
	st->last_update_sec = NOW - 7 * HOUR;
}

#define NR(...)                                                               \
	.not_reached = {__VA_ARGS__},                                         \
	.n_not_reached = sizeof((enum fee_ctl_step_id[]){__VA_ARGS__}) /      \
			 sizeof(enum fee_ctl_step_id)

static const struct step_case step_cases[] = {
    {.name = "baseline: nothing changes", .setup = c_baseline,
     .decided_by = FEE_STEP_IDEMPOTENT, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_NORMAL, .reason = "idempotent",
     .skip_reason = "idempotent"},
    {.name = "policy: passive", .setup = c_passive,
     .decided_by = FEE_STEP_POLICY, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_NONE, .reason = "passive",
     .skip_reason = "policy_passive",
     NR(FEE_STEP_EXTERNAL, FEE_STEP_BOUNDS, FEE_STEP_THOMPSON,
	FEE_STEP_IDEMPOTENT, FEE_STEP_REFRESH)},
    {.name = "policy: static target", .setup = c_static,
     .decided_by = FEE_STEP_POLICY, .action = FEE_CTL_SET, .fee_ppm = 123,
     .cls = FEE_CLASS_POLICY, .reason = "static_target",
     NR(FEE_STEP_BOUNDS, FEE_STEP_CONGESTION, FEE_STEP_THOMPSON,
	FEE_STEP_REFRESH)},
    {.name = "policy: static below min_fee is exact", .setup = c_static_low,
     .decided_by = FEE_STEP_POLICY, .action = FEE_CTL_SET, .fee_ppm = 3,
     .cls = FEE_CLASS_POLICY, .reason = "static_target"},
    {.name = "policy: static above the rail", .setup = c_static_high,
     .decided_by = FEE_STEP_POLICY, .action = FEE_CTL_SET,
     .fee_ppm = 100000, .cls = FEE_CLASS_POLICY, .reason = "static_target"},
    {.name = "policy: static without target holds (defect 37)",
     .setup = c_static_none, .decided_by = FEE_STEP_POLICY,
     .action = FEE_CTL_NO_CHANGE, .fee_ppm = 200, .cls = FEE_CLASS_NONE,
     .reason = "static_no_target", .skip_reason = "policy_static",
     NR(FEE_STEP_THOMPSON)},
    {.name = "policy: static at the live fee", .setup = c_static_same,
     .decided_by = FEE_STEP_IDEMPOTENT, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_POLICY, .reason = "idempotent",
     .skip_reason = "policy_static"},
    {.name = "policy: hive", .setup = c_hive, .decided_by = FEE_STEP_POLICY,
     .action = FEE_CTL_SET, .fee_ppm = 0, .cls = FEE_CLASS_POLICY,
     .reason = "hive_fee"},
    {.name = "external: adopt", .setup = c_external,
     .decided_by = FEE_STEP_EXTERNAL, .action = FEE_CTL_ADOPT_EXTERNAL,
     .fee_ppm = 200, .cls = FEE_CLASS_EXTERNAL,
     .reason = "external_fee_adopted",
     NR(FEE_STEP_BOUNDS, FEE_STEP_THOMPSON, FEE_STEP_IDEMPOTENT)},
    {.name = "external: hold", .setup = c_external_hold,
     .decided_by = FEE_STEP_EXTERNAL, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_EXTERNAL, .reason = "external_hold",
     .skip_reason = "external_hold", NR(FEE_STEP_THOMPSON)},
    {.name = "external: base fee changed", .setup = c_external_base,
     .decided_by = FEE_STEP_EXTERNAL, .action = FEE_CTL_ADOPT_EXTERNAL,
     .fee_ppm = 200, .cls = FEE_CLASS_EXTERNAL,
     .reason = "external_fee_adopted"},
    {.name = "thompson: sampled fee", .setup = c_thompson,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_SET,
     .fee_ppm = 230, .cls = FEE_CLASS_NORMAL, .reason = "sample_prior"},
    {.name = "bounds: a floor above the live fee beats the guards",
     .setup = c_rail, .decided_by = FEE_STEP_THOMPSON,
     .action = FEE_CTL_SET, .fee_ppm = 205, .cls = FEE_CLASS_NORMAL,
     .reason = "sample_prior"},
    {.name = "congestion: entry", .setup = c_congestion,
     .decided_by = FEE_STEP_CONGESTION, .action = FEE_CTL_SET,
     .fee_ppm = 450, .cls = FEE_CLASS_CONGESTION,
     .reason = "congestion_entry",
     NR(FEE_STEP_PROBE, FEE_STEP_FIRE_SALE, FEE_STEP_THOMPSON,
	FEE_STEP_COLD_START, FEE_STEP_SCARCITY)},
    {.name = "congestion: quiet cycle holds", .setup = c_congestion_hold,
     .decided_by = FEE_STEP_IDEMPOTENT, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_CONGESTION, .reason = "idempotent",
     .skip_reason = "idempotent", NR(FEE_STEP_THOMPSON)},
    {.name = "congestion: exit broadcasts", .setup = c_congestion_exit,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_SET,
     .fee_ppm = 410, .cls = FEE_CLASS_NORMAL, .reason = "sample_prior"},
    {.name = "vegas: floor x3", .setup = c_vegas,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_SET,
     .fee_ppm = 120, .cls = FEE_CLASS_NORMAL, .reason = "sample_prior"},
    {.name = "probe: start", .setup = c_probe, .decided_by = FEE_STEP_PROBE,
     .action = FEE_CTL_SET, .fee_ppm = 0, .cls = FEE_CLASS_PROBE,
     .reason = "probe_start",
     NR(FEE_STEP_FIRE_SALE, FEE_STEP_THOMPSON, FEE_STEP_SCARCITY)},
    {.name = "probe: running holds zero", .setup = c_probe_active,
     .decided_by = FEE_STEP_IDEMPOTENT, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 0, .cls = FEE_CLASS_PROBE, .reason = "idempotent",
     .skip_reason = "idempotent", NR(FEE_STEP_THOMPSON)},
    {.name = "probe: success resumes pricing", .setup = c_probe_success,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_SET, .fee_ppm = 25,
     .cls = FEE_CLASS_NORMAL, .reason = "sample_prior"},
    {.name = "probe: expired, floor lifts the held fee",
     .setup = c_probe_expired, .decided_by = FEE_STEP_BOUNDS,
     .action = FEE_CTL_SET, .fee_ppm = 21, .cls = FEE_CLASS_NORMAL,
     .reason = "floor_raise"},
    {.name = "fire sale", .setup = c_fire_sale,
     .decided_by = FEE_STEP_FIRE_SALE, .action = FEE_CTL_SET, .fee_ppm = 1,
     .cls = FEE_CLASS_FIRE_SALE, .reason = "fire_sale",
     NR(FEE_STEP_THOMPSON, FEE_STEP_COLD_START, FEE_STEP_SCARCITY)},
    {.name = "fire sale: momentum guard", .setup = c_momentum,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_SET,
     .fee_ppm = 150, .cls = FEE_CLASS_NORMAL, .reason = "sample_prior"},
    {.name = "cold start caps the sample", .setup = c_cold_start,
     .decided_by = FEE_STEP_COLD_START, .action = FEE_CTL_SET,
     .fee_ppm = 71, .cls = FEE_CLASS_NORMAL, .reason = "cold_start"},
    {.name = "scarcity premium", .setup = c_scarcity,
     .decided_by = FEE_STEP_SCARCITY, .action = FEE_CTL_SET,
     .fee_ppm = 485, .cls = FEE_CLASS_NORMAL, .reason = "scarcity"},
    {.name = "scarcity: virgin amnesty", .setup = c_virgin,
     .decided_by = FEE_STEP_IDEMPOTENT, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_NORMAL, .reason = "idempotent",
     .skip_reason = "idempotent"},
    {.name = "min-change guard", .setup = c_min_change,
     .decided_by = FEE_STEP_MIN_CHANGE, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_NORMAL, .reason = "below_min_change",
     .skip_reason = "fee_unchanged", NR(FEE_STEP_HYSTERESIS)},
    {.name = "hysteresis: inside 5 %", .setup = c_hysteresis,
     .decided_by = FEE_STEP_HYSTERESIS, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_NORMAL, .reason = "gossip_hysteresis",
     .skip_reason = "gossip_hysteresis"},
    {.name = "hysteresis: beyond 5 %", .setup = c_beyond_band,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_SET,
     .fee_ppm = 211, .cls = FEE_CLASS_NORMAL, .reason = "sample_prior"},
    {.name = "hysteresis: a fee of 1 always broadcasts", .setup = c_fee_one,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_SET, .fee_ppm = 1,
     .cls = FEE_CLASS_NORMAL, .reason = "sample_prior"},
    {.name = "idempotent: base fee update only", .setup = c_base_fee,
     .decided_by = FEE_STEP_IDEMPOTENT, .action = FEE_CTL_SET,
     .fee_ppm = 200, .cls = FEE_CLASS_NORMAL, .reason = "base_fee_update"},
    {.name = "refresh after 24 h", .setup = c_refresh,
     .decided_by = FEE_STEP_REFRESH, .action = FEE_CTL_SET, .fee_ppm = 201,
     .cls = FEE_CLASS_NORMAL, .reason = "gossip_refresh"},
    {.name = "window: waiting_time", .setup = c_waiting_time,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_NO_CHANGE,
     .fee_ppm = 200, .cls = FEE_CLASS_NORMAL, .reason = "waiting_time",
     .skip_reason = "waiting_time"},
    {.name = "window: waiting_forwards (defect 13)",
     .setup = c_waiting_forwards, .decided_by = FEE_STEP_THOMPSON,
     .action = FEE_CTL_NO_CHANGE, .fee_ppm = 200, .cls = FEE_CLASS_NORMAL,
     .reason = "waiting_forwards", .skip_reason = "waiting_forwards"},
    {.name = "window: closes after 6 h without forwards",
     .setup = c_window_max, .decided_by = FEE_STEP_IDEMPOTENT,
     .action = FEE_CTL_NO_CHANGE, .fee_ppm = 200, .cls = FEE_CLASS_NORMAL,
     .reason = "idempotent", .skip_reason = "idempotent"},
};

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *s_or(const char *s)
{
	return s ? s : "(null)";
}

static void dump(const struct fee_ctl_decision *d)
{
	printf(
	    "#   %s fee %lld cls %s by %s (%s) skip %s floor %lld ceil %lld\n",
	    fee_ctl_action_name(d->action), (long long)d->fee_ppm,
	    fee_ctl_class_name(d->cls), fee_ctl_step_name(d->decided_by),
	    s_or(d->reason), s_or(d->skip_reason), (long long)d->floor_ppm,
	    (long long)d->ceiling_ppm);
	for (size_t i = 0; i < FEE_STEP_NUM; i++) {
		const struct fee_ctl_step_rec *s = &d->steps[i];
		printf("#     %-11s %s%s %-24s %lld -> %lld\n",
		       fee_ctl_step_name(i), s->evaluated ? "E" : "-",
		       s->applied ? "A" : "-", s_or(s->reason),
		       (long long)s->fee_in_ppm, (long long)s->fee_out_ppm);
	}
}

static void test_step_table(void)
{
	bool applied_any[FEE_STEP_NUM] = {0};

	for (size_t i = 0; i < sizeof(step_cases) / sizeof(step_cases[0]);
	     i++) {
		const struct step_case *c = &step_cases[i];
		struct fee_ctl_params p;
		struct fee_ctl_state st;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d;
		struct rng r;
		const char *err;
		bool ok, reached_ok = true;

		c->setup(&p, &st, &o);
		rng_seed(&r, 1000 + i);
		err = fee_ctl_step(&p, &st, &o, NOW, &r, &d);
		ok = err == NULL && d.decided_by == c->decided_by &&
		     d.action == c->action && d.fee_ppm == c->fee_ppm &&
		     d.cls == c->cls && str_eq(d.reason, c->reason) &&
		     str_eq(d.skip_reason, c->skip_reason);
		CHECK(ok,
		      "step table: %s -> %s %lld %s by %s (%s, skip %s); want "
		      "%s %lld %s by %s (%s, skip %s) %s",
		      c->name, fee_ctl_action_name(d.action),
		      (long long)d.fee_ppm, fee_ctl_class_name(d.cls),
		      fee_ctl_step_name(d.decided_by), s_or(d.reason),
		      s_or(d.skip_reason), fee_ctl_action_name(c->action),
		      (long long)c->fee_ppm, fee_ctl_class_name(c->cls),
		      fee_ctl_step_name(c->decided_by), c->reason,
		      s_or(c->skip_reason), err ? err : "");
		for (size_t k = 0; k < c->n_not_reached; k++) {
			const struct fee_ctl_step_rec *s =
			    &d.steps[c->not_reached[k]];
			if (s->evaluated || s->applied) {
				reached_ok = false;
				printf("#   %s: step %s was reached\n", c->name,
				       fee_ctl_step_name(c->not_reached[k]));
			}
		}
		CHECK(reached_ok, "step table: %s: later steps not reached",
		      c->name);
		if (!ok || !reached_ok)
			dump(&d);
		for (size_t k = 0; k < FEE_STEP_NUM; k++)
			applied_any[k] |= d.steps[k].applied;
	}
	for (size_t k = 0; k < FEE_STEP_NUM; k++)
		CHECK(applied_any[k],
		      "step %s is reachable (applied in the table)",
		      fee_ctl_step_name(k));
}

/* ---- pre-emption: two steps' conditions at once ---- */

struct preempt_case {
	const char *name;
	setup_fn setup;
	enum fee_ctl_step_id winner;
	enum fee_ctl_step_id loser;
	const char *loser_reason; /* "preempted", or a deferral reason */
	int64_t fee_ppm;
};

/* Static policy while congested, idle, a zombie, fire sale on, in a
 * spike: the policy fee wins; no dynamic step runs. */
static void x_policy_over_all(struct fee_ctl_params *p,
			      struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	c_fire_sale(p, st, o);
	o->congested = true;
	spike(o);
	o->policy.strategy = FEE_CTL_STATIC;
	o->policy.fee_ppm_target = 123;
}
static void x_external_over_congestion(struct fee_ctl_params *p,
				       struct fee_ctl_state *st,
				       struct fee_ctl_obs *o)
{
	c_external(p, st, o);
	o->congested = true;
}
static void x_congestion_over_probe(struct fee_ctl_params *p,
				    struct fee_ctl_state *st,
				    struct fee_ctl_obs *o)
{
	c_probe(p, st, o);
	o->congested = true;
}
static void x_congestion_over_fire_sale(struct fee_ctl_params *p,
					struct fee_ctl_state *st,
					struct fee_ctl_obs *o)
{
	c_fire_sale(p, st, o);
	o->congested = true;
}
static void x_vegas_defers_probe(struct fee_ctl_params *p,
				 struct fee_ctl_state *st,
				 struct fee_ctl_obs *o)
{
	c_probe(p, st, o);
	spike(o);
}
static void x_vegas_cancels_probe(struct fee_ctl_params *p,
				  struct fee_ctl_state *st,
				  struct fee_ctl_obs *o)
{
	c_probe_active(p, st, o);
	spike(o);
}
static void x_vegas_defers_fire_sale(struct fee_ctl_params *p,
				     struct fee_ctl_state *st,
				     struct fee_ctl_obs *o)
{
	c_fire_sale(p, st, o);
	spike(o);
}
static void x_probe_over_fire_sale(struct fee_ctl_params *p,
				   struct fee_ctl_state *st,
				   struct fee_ctl_obs *o)
{
	c_fire_sale(p, st, o);
	st->probe_attempts = 0;
}
/* Cold start + scarcity: floor 200, cold-start ceiling max(100, 250) =
 * 250; the scarcity premium (485) is cut to 250. */
static void x_cold_start_caps_scarcity(struct fee_ctl_params *p,
				       struct fee_ctl_state *st,
				       struct fee_ctl_obs *o)
{
	c_scarcity(p, st, o);
	o->total_forward_count = 2;
}

static const struct preempt_case preempt_cases[] = {
    {"policy pre-empts every dynamic step", x_policy_over_all,
     FEE_STEP_POLICY, FEE_STEP_CONGESTION, "policy_fee", 123},
    {"external pre-empts congestion", x_external_over_congestion,
     FEE_STEP_EXTERNAL, FEE_STEP_CONGESTION, "preempted", 200},
    {"congestion pre-empts the probe", x_congestion_over_probe,
     FEE_STEP_CONGESTION, FEE_STEP_PROBE, "preempted", 450},
    {"congestion pre-empts the fire sale", x_congestion_over_fire_sale,
     FEE_STEP_CONGESTION, FEE_STEP_FIRE_SALE, "preempted", 450},
    /* Spike floor 21 x 3 = 63 < 200: the sample 200 stands. */
    {"vegas defers the probe", x_vegas_defers_probe, FEE_STEP_IDEMPOTENT,
     FEE_STEP_PROBE, "deferred_vegas", 200},
    /* The running probe stops; the window is still open (no forwards),
     * so the fee holds at 0 and the spike floor 63 lifts it. */
    {"vegas cancels a running probe", x_vegas_cancels_probe,
     FEE_STEP_BOUNDS, FEE_STEP_PROBE, "probe_cancelled_vegas", 63},
    {"vegas defers the fire sale", x_vegas_defers_fire_sale,
     FEE_STEP_THOMPSON, FEE_STEP_FIRE_SALE, "deferred_vegas", 150},
    {"probe pre-empts the fire sale", x_probe_over_fire_sale,
     FEE_STEP_PROBE, FEE_STEP_FIRE_SALE, "preempted", 0},
    {"fire sale pre-empts Thompson", c_fire_sale, FEE_STEP_FIRE_SALE,
     FEE_STEP_THOMPSON, "preempted", 1},
    {"cold start's ceiling bounds the scarcity premium",
     x_cold_start_caps_scarcity, FEE_STEP_SCARCITY, FEE_STEP_NUM, NULL,
     250},
    {"min-change guard pre-empts hysteresis", c_min_change,
     FEE_STEP_MIN_CHANGE, FEE_STEP_HYSTERESIS, "preempted", 200},
    {"hysteresis pre-empts the broadcast", c_hysteresis,
     FEE_STEP_HYSTERESIS, FEE_STEP_REFRESH, "fresh", 200},
};

/* What refilled liquidity is worth: fee x weight x depletion. */
static void test_liquidity_value(void)
{
	struct fee_ctl_params p;

	fee_ctl_params_default(&p);
	/* Empty: the whole weighted fee; 1,000 ppm x 0.5. */
	CHECK(near(fee_ctl_liquidity_value_ppm(&p, 1000, 0, 1000000), 500,
		   1e-9),
	      "empty channel: %g",
	      fee_ctl_liquidity_value_ppm(&p, 1000, 0, 1000000));
	/* A quarter full is half depleted against the 0.5 ratio. */
	CHECK(near(fee_ctl_liquidity_value_ppm(&p, 1000, 250000, 1000000),
		   250, 1e-9),
	      "quarter full: %g",
	      fee_ctl_liquidity_value_ppm(&p, 1000, 250000, 1000000));
	/* At or above the ratio, no capacity, or no fee: nothing. */
	CHECK(fee_ctl_liquidity_value_ppm(&p, 1000, 500000, 1000000) == 0 &&
		  fee_ctl_liquidity_value_ppm(&p, 1000, 900000, 1000000) ==
		      0 &&
		  fee_ctl_liquidity_value_ppm(&p, 1000, 0, 0) == 0 &&
		  fee_ctl_liquidity_value_ppm(&p, 0, 0, 1000000) == 0,
	      "balanced, empty or free channels are worth nothing");
	/* Weight 0 turns the credit off. */
	p.liquidity_credit_weight = 0;
	CHECK(fee_ctl_liquidity_value_ppm(&p, 1000, 0, 1000000) == 0,
	      "weight 0: off");
}

static void test_preemption(void)
{
	for (size_t i = 0;
	     i < sizeof(preempt_cases) / sizeof(preempt_cases[0]); i++) {
		const struct preempt_case *c = &preempt_cases[i];
		struct fee_ctl_params p;
		struct fee_ctl_state st;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d;
		struct rng r;
		const char *err;
		bool ok;

		c->setup(&p, &st, &o);
		rng_seed(&r, 77);
		err = fee_ctl_step(&p, &st, &o, NOW, &r, &d);
		ok = err == NULL && d.decided_by == c->winner &&
		     d.fee_ppm == c->fee_ppm;
		if (c->loser != FEE_STEP_NUM) {
			const struct fee_ctl_step_rec *l = &d.steps[c->loser];
			ok = ok && !l->applied &&
			     str_eq(l->reason, c->loser_reason);
			if (!strcmp(c->loser_reason, "preempted"))
				ok = ok && !l->evaluated &&
				     l->preempted_by == c->winner;
		}
		CHECK(ok,
		      "pre-emption: %s: %s decided %lld (want %s, %lld); %s "
		      "says %s",
		      c->name, fee_ctl_step_name(d.decided_by),
		      (long long)d.fee_ppm, fee_ctl_step_name(c->winner),
		      (long long)c->fee_ppm, fee_ctl_step_name(c->loser),
		      c->loser == FEE_STEP_NUM
			  ? "-"
			  : s_or(d.steps[c->loser].reason));
		if (!ok)
			dump(&d);
	}
}

/* ---- state effects of the table's decisions ---- */

static void test_window_bookkeeping(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 5);
	/* Idempotent closes the window and records the observation:
	 * 1 M sat out at 200 ppm over 2 h = 100 sat/h, weight 2/6. */
	c_baseline(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.observation_recorded && st.n_obs == 1 &&
		  st.last_update_sec == NOW &&
		  near(d.observation.revenue_sat_per_hour, 100, 1e-9) &&
		  near(d.observation.weight, 2.0 / 6, 1e-12) &&
		  d.observation.fee_ppm == 200,
	      "idempotent closes the window: rev %g w %g n %u",
	      d.observation.revenue_sat_per_hour, d.observation.weight,
	      st.n_obs);

	/* Reputation 0.5 and uptime 50 % quarter the volume: 25 sat/h. */
	c_baseline(&p, &st, &o);
	o.peer_reputation = 0.5;
	o.peer_uptime_pct = 50;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(near(d.observation.revenue_sat_per_hour, 25, 1e-9),
	      "reputation and uptime weigh the volume: %g",
	      d.observation.revenue_sat_per_hour);
	/* A profitable channel is shielded from reputation, not uptime. */
	c_baseline(&p, &st, &o);
	o.peer_reputation = 0.5;
	o.peer_uptime_pct = 50;
	o.pnl_class = PNL_PROFITABLE;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(near(d.observation.revenue_sat_per_hour, 50, 1e-9),
	      "profitability shield: %g", d.observation.revenue_sat_per_hour);

	/* The liquidity credit adds what the forwards refilled: 400 sat
	 * over the 2 h on top of the 100 sat/h the fee earned. */
	c_baseline(&p, &st, &o);
	o.win_in_credit_msat = 400000;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(near(d.observation.revenue_sat_per_hour, 300, 1e-9) &&
		  d.observation.fee_ppm == 200,
	      "liquidity credit counts as revenue: %g",
	      d.observation.revenue_sat_per_hour);
	/* ... weighed by reputation and uptime like the volume. */
	c_baseline(&p, &st, &o);
	o.win_in_credit_msat = 400000;
	o.peer_reputation = 0.5;
	o.peer_uptime_pct = 50;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(near(d.observation.revenue_sat_per_hour, 75, 1e-9),
	      "liquidity credit weighed: %g",
	      d.observation.revenue_sat_per_hour);

	/* Suppressed changes keep the window open. */
	c_min_change(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(!d.observation_recorded && st.last_update_sec == NOW - 2 * HOUR,
	      "the min-change guard keeps the window open");
	c_hysteresis(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(!d.observation_recorded && st.last_update_sec == NOW - 2 * HOUR &&
		  st.pending_target_ppm == 209,
	      "hysteresis keeps the window open and the pending target %lld",
	      (long long)st.pending_target_ppm);
	c_waiting_time(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(!d.observation_recorded && st.last_update_sec == NOW - 1800,
	      "waiting keeps the window open");

	/* A set records the broadcast. */
	c_thompson(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.last_set_fee_ppm == 230 && st.last_broadcast_sec == NOW &&
		  st.last_class == FEE_CLASS_NORMAL && d.observation_recorded,
	      "a set updates last_set / last_broadcast");

	/* Adoption restarts the window and holds. */
	c_external(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.last_set_fee_ppm == 200 && st.external_adopted_sec == NOW &&
		  st.last_update_sec == NOW && !d.observation_recorded,
	      "adopting an external fee makes it ours and restarts the window");
	o.win_forwards = 20;
	step(&p, &st, &o, NOW + 2 * HOUR, &r, &d);
	CHECK(d.decided_by == FEE_STEP_EXTERNAL &&
		  str_eq(d.reason, "external_hold"),
	      "two hours later it is still held");
	st.prior_mean_ppm = 260;
	step(&p, &st, &o, NOW + 25 * HOUR, &r, &d);
	CHECK(d.action == FEE_CTL_SET && d.fee_ppm == 250 &&
		  d.steps[FEE_STEP_HYSTERESIS].reason &&
		  str_eq(d.steps[FEE_STEP_HYSTERESIS].reason, "class_change"),
	      "after the hold the controller resumes from the adopted fee "
	      "(%lld, damped to 250)",
	      (long long)d.fee_ppm);

	/* Passive leaves the state alone. */
	struct fee_ctl_state before;
	c_passive(&p, &st, &o);
	before = st;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(memcmp(&before, &st, sizeof(st)) == 0,
	      "passive does not touch the state");

	/* Base fee: -1 keeps the channel's own base. */
	c_thompson(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.base_fee_msat == 1000, "base -1 keeps the live base (%lld)",
	      (long long)d.base_fee_msat);

	/* Probe bookkeeping. */
	c_probe(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.probe_started_sec == NOW && st.probe_attempts == 1 &&
		  !d.enforce_limits,
	      "a probe start counts an attempt and bypasses the limits");
	c_probe_success(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.probe_started_sec == 0 && st.probe_success_sec == NOW &&
		  str_eq(d.steps[FEE_STEP_PROBE].reason, "probe_success") &&
		  !d.observation_recorded,
	      "probe success is recorded; the zero-fee window is not learned");
	c_probe_expired(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.probe_started_sec == 0 && st.probe_last_end_sec == NOW &&
		  str_eq(d.steps[FEE_STEP_PROBE].reason, "probe_expired"),
	      "an expired probe ends");
	/* Right after, the cooldown stops a new probe. */
	o.chain_fee_ppm = 21;
	st.last_set_fee_ppm = 21;
	step(&p, &st, &o, NOW + HOUR, &r, &d);
	CHECK(str_eq(d.steps[FEE_STEP_PROBE].reason, "cooldown"),
	      "cooldown after a probe (%s)",
	      s_or(d.steps[FEE_STEP_PROBE].reason));
	/* Two attempts used: no more probes. */
	c_probe(&p, &st, &o);
	st.probe_attempts = 2;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(str_eq(d.steps[FEE_STEP_PROBE].reason, "attempts_exhausted"),
	      "probe attempts are bounded");
	/* No outbound liquidity: a probe proves nothing. */
	c_probe(&p, &st, &o);
	o.local_sat = 50000; /* 0.025 < 0.05 */
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(str_eq(d.steps[FEE_STEP_PROBE].reason, "no_outbound"),
	      "no probe without outbound liquidity");
}

/* ---- defects ---- */

/* Defect 3: the H clamp raised probe 0, fire sale 1 and hive 0 to
 * min_fee_ppm, so the defibrillator never tested demand at zero. */
static void test_defect3_low_fee_modes_bypass_clamp(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 3);
	c_probe(&p, &st, &o);
	p.min_fee_ppm = 50;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.action == FEE_CTL_SET && d.fee_ppm == 0 && !d.enforce_limits,
	      "defect 3: the probe sets 0 ppm with min_fee 50 (got %lld)",
	      (long long)d.fee_ppm);
	c_fire_sale(&p, &st, &o);
	p.min_fee_ppm = 50;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.action == FEE_CTL_SET && d.fee_ppm == 1 && !d.enforce_limits,
	      "defect 3: the fire sale sets 1 ppm (got %lld)",
	      (long long)d.fee_ppm);
	c_hive(&p, &st, &o);
	p.min_fee_ppm = 50;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.action == FEE_CTL_SET && d.fee_ppm == 0 && !d.enforce_limits,
	      "defect 3: the hive fee stays 0 (got %lld)",
	      (long long)d.fee_ppm);
}

/* Defect 4: HIVE_SAFETY reported an adjustment without calling
 * setchannel. Ours decides SET, and again after an external change is
 * held off and the hold expires. */
static void test_defect4_hive_fee_applied(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 4);
	c_hive(&p, &st, &o);
	p.hive_fee_ppm = 7;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.action == FEE_CTL_SET && d.fee_ppm == 7 &&
		  st.last_set_fee_ppm == 7,
	      "defect 4: the hive fee is applied (%s %lld)",
	      fee_ctl_action_name(d.action), (long long)d.fee_ppm);
	o.chain_fee_ppm = 7;
	step(&p, &st, &o, NOW + HOUR, &r, &d);
	CHECK(d.action == FEE_CTL_NO_CHANGE && str_eq(d.skip_reason,
						      "policy_hive"),
	      "defect 4: once applied, nothing to do (%s)",
	      s_or(d.skip_reason));
}

/* Defects 5 and 6: the H floor never used the Vegas multiplier, and its
 * update decayed a full spike to 0.85 in the same cycle. */
static void test_defect5_6_vegas(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 5);
	c_vegas(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	/* floor_pre = max(min 40, chain 21) = 40; x3 = 120. */
	CHECK(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "floor_pre_vegas_ppm") ==
		      40 &&
		  d.floor_ppm == 120 && d.steps[FEE_STEP_VEGAS].applied &&
		  fee_ctl_step_num(&d, FEE_STEP_VEGAS, "floor_after_ppm") ==
		      120,
	      "defect 5: the Vegas multiplier is applied to the floor (%lld)",
	      (long long)d.floor_ppm);
	CHECK(st.vegas_intensity == 1.0 &&
		  fee_ctl_step_num(&d, FEE_STEP_VEGAS, "multiplier") == 3.0,
	      "defect 6: a 5x spike leaves intensity 1.0 and a 3x floor "
	      "(intensity %g)",
	      st.vegas_intensity);

	/* Decay first: 0.5 an hour ago decays (2 cycles of 1800 s) to
	 * 0.5 x 0.85^2 = 0.36125, then the spike sets 1.0. */
	c_vegas(&p, &st, &o);
	st.vegas_intensity = 0.5;
	st.vegas_decayed_sec = NOW - HOUR;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.vegas_intensity == 1.0 &&
		  near(fee_ctl_step_num(&d, FEE_STEP_VEGAS, "decay_factor"),
		       0.85 * 0.85, 1e-12),
	      "defect 6: decay before the spike check");

	/* Calm: one cycle later 1.0 decays to 0.85: multiplier
	 * 1 + 2 sqrt(0.85) = 2.8439; floor 40 -> 113. */
	o.chain_fee_ppm = d.fee_ppm;
	o.mempool_satvb = 10;
	o.mempool_sample_sec = NOW + 1800;
	step(&p, &st, &o, NOW + 1800, &r, &d);
	CHECK(near(st.vegas_intensity, 0.85, 1e-12) &&
		  d.floor_ppm == (int64_t)(40 * (1 + 2 * sqrt(0.85))),
	      "the spike decays per cycle: intensity %g floor %lld",
	      st.vegas_intensity, (long long)d.floor_ppm);

	/* Disabled: no multiplier. */
	c_vegas(&p, &st, &o);
	p.vegas_enabled = false;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.floor_ppm == 40 && !d.steps[FEE_STEP_VEGAS].applied,
	      "vegas off: floor stays 40 (%lld)", (long long)d.floor_ppm);
}

/* The early trigger draws from the rng: a 3x ratio (boost 0.5) triggers
 * with probability 0.25 on a first sample, always on a second. */
static void test_vegas_early_trigger(void)
{
	int triggered = 0, n = 4000, again = 0;

	for (int i = 0; i < n; i++) {
		struct fee_ctl_params p;
		struct fee_ctl_state st;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d;
		struct rng r;

		c_baseline(&p, &st, &o);
		o.mempool_satvb = 30;
		o.mempool_ma_satvb = 10;
		o.mempool_sample_sec = NOW;
		rng_seed(&r, 9000 + i);
		step(&p, &st, &o, NOW, &r, &d);
		if (st.vegas_intensity > 0) {
			triggered++;
			/* boost 0.5 x 0.3 = 0.15 */
			if (!near(st.vegas_intensity, 0.15, 1e-12))
				printf("# seed %d intensity %g\n", i,
				       st.vegas_intensity);
		}
		/* The second elevated sample always triggers. */
		o.mempool_sample_sec = NOW + 1800;
		step(&p, &st, &o, NOW + 1800, &r, &d);
		again += st.vegas_intensity > 0 &&
			 str_eq(d.steps[FEE_STEP_VEGAS].reason, "sustained");
	}
	CHECK(abs(triggered - n / 4) < n / 20,
	      "early trigger fires %d of %d times (~25 %%)", triggered, n);
	CHECK_EQ_INT(again, n, "a second elevated sample always triggers");
}

/* Defect 7: the H economic floor charged remote-opened channels our open
 * cost (21 ppm instead of 8) and ignored capacity. */
static void test_defect7_opener_and_capacity(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 7);
	c_baseline(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	/* (5000 + 3000) / 365 = 21.92 */
	CHECK(near(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "chain_floor_ppm"),
		   8000.0 / 365, 1e-9) &&
		  fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "econ_floor_ppm") == 21,
	      "local open: 21 ppm");
	c_baseline(&p, &st, &o);
	o.opener = PNL_OPENER_REMOTE;
	step(&p, &st, &o, NOW, &r, &d);
	/* 3000 / 365 = 8.22 */
	CHECK(near(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "chain_floor_ppm"),
		   3000.0 / 365, 1e-9) &&
		  fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "econ_floor_ppm") == 8,
	      "defect 7: remote open pays only the close: 8 ppm");
	/* Capacity-aware amortisation: 2 M x 0.1 = 200 k sat/day:
	 * 8000 / (365 x 200,000) x 1e6 = 109.59 -> 109. */
	c_baseline(&p, &st, &o);
	p.amortise_capacity_turnover = 0.1;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "econ_floor_ppm") == 109,
	      "defect 7: capacity-aware amortisation (%g)",
	      fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "econ_floor_ppm"));
	/* Live feerates: 10 sat/vB -> open 1400, close 2000: 9.3 ppm; the
	 * force-close risk premium 3 x 10 = 30 wins. */
	c_baseline(&p, &st, &o);
	o.feerate_perkb = 10000;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(near(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "risk_premium_ppm"),
		   30, 1e-9) &&
		  fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "econ_floor_ppm") == 30,
	      "live feerate: risk premium 30 ppm");
	/* HTLC hold premium: x1.2 -> 36. */
	o.peer_hold_avg_sec = 12;
	c_baseline(&p, &st, &o);
	o.feerate_perkb = 10000;
	o.peer_hold_avg_sec = 12;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "econ_floor_ppm") == 36,
	      "slow HTLC resolution adds 20 %%");
}

/* Defect 8: H multiplied max(chain, min_fee) by 0.80 for sinks, undercutting
 * min_fee_ppm. The multipliers now touch the chain term only. */
static void test_defect8_min_fee_inviolable(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 8);
	c_baseline(&p, &st, &o);
	p.min_fee_ppm = 30;
	o.flow_class = FLOW_SINK;
	step(&p, &st, &o, NOW, &r, &d);
	/* chain 21.9 x 0.8 = 17.5 -> 17; floor max(30, 17) = 30, not 24. */
	CHECK(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "econ_floor_ppm") == 17 &&
		  d.floor_ppm == 30,
	      "defect 8: a sink keeps min_fee 30 (floor %lld)",
	      (long long)d.floor_ppm);
	/* A full channel's bucket multiplier 0.5 also spares the min. */
	c_baseline(&p, &st, &o);
	p.min_fee_ppm = 30;
	o.local_sat = 1900000; /* 0.95 */
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.floor_ppm == 30, "defect 8: bucket x0.5 spares the min (%lld)",
	      (long long)d.floor_ppm);
	/* Only min_fee_ppm_saturated may lower the min term, and not for a
	 * balanced router. */
	p.min_fee_ppm_saturated = 5;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "min_term_ppm") == 5 &&
		  d.floor_ppm == 10,
	      "saturated min term 5, floor = chain 21.9 x 0.5 = 10 (%lld)",
	      (long long)d.floor_ppm);
	o.window_in_sat = 300000;
	o.window_out_sat = 300000; /* 600 k >= 0.25 x 2 M, balanced */
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(fee_ctl_step_num(&d, FEE_STEP_BOUNDS, "min_term_ppm") == 30,
	      "a balanced router keeps the normal min");
}

/* Defect 9: the profit adjustment crashed on a non-existent MARGINAL
 * class and was skipped for every class. */
static void test_defect9_profit_adjustment(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 9);
	c_thompson(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "profit_multiplier") ==
			  1.0 &&
		  d.fee_ppm == 230,
	      "defect 9: break_even passes through the adjustment (x1)");
	c_thompson(&p, &st, &o);
	st.prior_mean_ppm = 220;
	o.pnl_class = PNL_PROFITABLE;
	o.roi = 0.3;
	step(&p, &st, &o, NOW, &r, &d);
	/* 220 x 1.10 = 242 (inside the damping limit 200 + 50) */
	CHECK(d.fee_ppm == 242, "profitable roi 30 %%: +10 %% -> %lld",
	      (long long)d.fee_ppm);
	c_thompson(&p, &st, &o);
	st.prior_mean_ppm = 220;
	o.pnl_class = PNL_UNDERWATER;
	o.roi = -0.3;
	step(&p, &st, &o, NOW, &r, &d);
	/* 220 x 0.85 = 187 */
	CHECK(d.fee_ppm == 187, "underwater roi -30 %%: -15 %% -> %lld",
	      (long long)d.fee_ppm);
}

/* Defect 10: H compared reason strings that embed the context key, so a
 * context change forced a broadcast through the 5 % band. */
static void test_defect10_context_churn(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 10);
	c_thompson(&p, &st, &o);
	o.time_intensity = 0.9; /* peak */
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.action == FEE_CTL_SET && d.fee_ppm == 230,
	      "first: set 230 at peak time");
	/* Next hour, off-peak (another context), sample 238: +8 passes the
	 * guard (6) but is inside 5 % of 230 (11.5). */
	o.chain_fee_ppm = 230;
	o.time_intensity = 0.1;
	st.prior_mean_ppm = 238;
	step(&p, &st, &o, NOW + HOUR, &r, &d);
	CHECK(fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "time_intensity") ==
			  0.1 &&
		  fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "context") ==
			  (double)fee_ctl_context_index(0.5, 0.1),
	      "the thompson step shows the time intensity and its context");
	CHECK(fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "context") !=
			  (double)fee_ctl_context_index(0.5, 0.9) &&
		  d.decided_by == FEE_STEP_HYSTERESIS &&
		  str_eq(d.steps[FEE_STEP_HYSTERESIS].reason, "within_band"),
	      "defect 10: a context change alone does not break the band (%s)",
	      s_or(d.steps[FEE_STEP_HYSTERESIS].reason));
}

/* Defect 11: H's slot scarcity ignored scarcity_threshold. */
static void test_defect11_slot_threshold(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 11);
	/* Outbound 0.6, so the balance premium stays out of it. */
	c_baseline(&p, &st, &o);
	o.local_sat = 1200000;
	st.htlc_util_ema = 0.5;
	o.htlc_util = 0.5;
	p.scarcity_threshold = 0.55;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(fee_ctl_step_num(&d, FEE_STEP_SCARCITY, "slot_multiplier") == 1 &&
		  d.fee_ppm == 200,
	      "defect 11: threshold 0.55 honoured at EMA 0.5");
	c_baseline(&p, &st, &o);
	o.local_sat = 1200000;
	st.htlc_util_ema = 0.5;
	o.htlc_util = 0.5;
	step(&p, &st, &o, NOW, &r, &d);
	/* 1 + (0.15 / 0.65)^2 x 2 = 1.10651 -> 200 x that = 221. */
	CHECK(near(fee_ctl_step_num(&d, FEE_STEP_SCARCITY, "slot_multiplier"),
		   1 + pow(0.15 / 0.65, 2) * 2, 1e-12) &&
		  d.fee_ppm == 221,
	      "at the reference's 0.35 the same EMA prices scarcity (%lld)",
	      (long long)d.fee_ppm);
}

/* Defect 12: ADDITIVE_INCREASE_PPM = 5 was declared but +0.02 used. */
static void test_defect12_aimd(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 12);
	/* Three fee-insufficient failures: x0.85, defending. 200 -> 170. */
	c_baseline(&p, &st, &o);
	o.win_fee_failures = 3;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(str_eq(d.aimd_event, "aimd_decrease") &&
		  near(st.aimd_modifier, 0.85, 1e-12) && st.aimd_active &&
		  d.fee_ppm == 170,
	      "3 failures: multiplicative decrease to 0.85, fee %lld",
	      (long long)d.fee_ppm);
	/* Counted once: the same window seen again adds nothing. */
	st.last_update_sec = NOW - 2 * HOUR; /* pretend the window is open */
	st.aimd_seen_failures = 3;
	step(&p, &st, &o, NOW + 2 * HOUR, &r, &d);
	CHECK(st.aimd_failures == 0 && near(st.aimd_modifier, 0.85, 1e-12),
	      "failures already seen are not counted twice");

	/* Ten successes while defending: +5 ppm at the live fee 200:
	 * 0.85 + 5 / 200 = 0.875. */
	c_baseline(&p, &st, &o);
	st.aimd_modifier = 0.85;
	st.aimd_active = 1;
	st.aimd_successes = 5;
	o.win_forwards = 5;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(str_eq(d.aimd_event, "aimd_increase") &&
		  near(st.aimd_modifier, 0.875, 1e-12),
	      "defect 12: additive increase is +5 ppm (modifier %g)",
	      st.aimd_modifier);
	/* Recovery: 0.99 + 0.025 >= 1: inactive at exactly 1. */
	c_baseline(&p, &st, &o);
	st.aimd_modifier = 0.99;
	st.aimd_active = 1;
	st.aimd_successes = 5;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(str_eq(d.aimd_event, "aimd_recovered") &&
		  st.aimd_modifier == 1.0 && !st.aimd_active,
	      "AIMD recovers to 1.0 and stops defending");
	/* Two decreases need an hour between them. */
	c_baseline(&p, &st, &o);
	st.aimd_last_decrease_sec = NOW - 1800;
	st.aimd_modifier = 0.85;
	st.aimd_active = 1;
	o.win_fee_failures = 5;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(near(st.aimd_modifier, 0.85, 1e-12) && st.aimd_failures == 5,
	      "no second decrease within the interval");
}

/* Defect 13: fee-debug's waiting_forwards was always 0. */
static void test_defect13_waiting_forwards(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 13);
	c_waiting_forwards(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(str_eq(d.skip_reason, "waiting_forwards") &&
		  st.last_update_sec == NOW - 2 * HOUR,
	      "defect 13: a quiet window reports waiting_forwards (%s)",
	      s_or(d.skip_reason));
	o.win_forwards = 3;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(!str_eq(d.skip_reason, "waiting_forwards"),
	      "three forwards end the wait");
}

/* Defect 14: without a seeded prior, the first cycle sampled the default
 * 200 +- 150 and walked away from a channel priced at 50. */
static void test_defect14_seeded_prior(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;
	int far = 0;

	c_baseline(&p, &st, &o);
	memset(&st, 0, sizeof(st)); /* a fresh, zeroed row */
	o.chain_fee_ppm = 50;
	rng_seed(&r, 14);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.version == FEE_CTL_STATE_VERSION &&
		  fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "sample_mean_ppm") ==
		      50,
	      "defect 14: a fresh state samples around the live fee (%g)",
	      fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "sample_mean_ppm"));
	memset(&st, 0, sizeof(st));
	o.prior_hint_ppm = 80;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "sample_mean_ppm") == 80,
	      "defect 14: or around the gossip prior");
	/* Over many seeds the first move stays within damping of 50. */
	for (int i = 0; i < 500; i++) {
		memset(&st, 0, sizeof(st));
		o.prior_hint_ppm = -1;
		rng_seed(&r, 14000 + i);
		step(&p, &st, &o, NOW, &r, &d);
		if (d.fee_ppm > 75)
			far++;
	}
	CHECK_EQ_INT(far, 0, "defect 14: no first cycle leaves 50 +- 25");
	fee_ctl_state_init(&p, &st, -1);
	CHECK(st.prior_mean_ppm == 200, "without evidence the default prior");

	/* Core Lightning's stock 1000 msat + 10 ppm on a new channel is
	 * not evidence: the neighbour median seeds it, else the default. */
	memset(&st, 0, sizeof(st));
	o.chain_fee_ppm = 10;
	o.chain_base_msat = 1000;
	o.prior_hint_ppm = -1;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.prior_mean_ppm == 200,
	      "stock fee pair, no neighbours: the default prior (%g)",
	      st.prior_mean_ppm);
	memset(&st, 0, sizeof(st));
	o.prior_hint_ppm = 450;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.prior_mean_ppm == 450,
	      "stock fee pair: the neighbour median (%g)", st.prior_mean_ppm);
	memset(&st, 0, sizeof(st));
	o.chain_base_msat = 0;
	o.prior_hint_ppm = -1;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(st.prior_mean_ppm == 10,
	      "10 ppm with base 0 was chosen: the live fee (%g)",
	      st.prior_mean_ppm);
}

/* Defect 15: the 101 -> 2612 ppm runaway; bounded congestion episodes and
 * per-cycle damping. */
static void test_defect15_runaway(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;
	int64_t prev = 101, max_seen = 0;
	bool steps_ok = true;

	rng_seed(&r, 15);
	c_baseline(&p, &st, &o);
	set_fee(&st, &o, 101);
	o.congested = true;
	for (int i = 0; i < 20; i++) {
		step(&p, &st, &o, NOW + i * HOUR, &r, &d);
		if (d.action == FEE_CTL_SET)
			o.chain_fee_ppm = d.fee_ppm;
		if (o.chain_fee_ppm > max_seen)
			max_seen = o.chain_fee_ppm;
		if (o.chain_fee_ppm > prev * 2 && o.chain_fee_ppm > prev + 250)
			steps_ok = false;
		prev = o.chain_fee_ppm;
	}
	/* 101 -> 351 -> 404 (4 x 101) and no further. */
	CHECK(max_seen == 404 && steps_ok,
	      "defect 15: a congestion episode stops at 4 x entry (max %lld)",
	      (long long)max_seen);

	/* The posterior says 2612; one cycle from 101 moves at most
	 * max(25 % x 101, 25) = 25. */
	c_baseline(&p, &st, &o);
	set_fee(&st, &o, 101);
	st.prior_mean_ppm = 2612;
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.fee_ppm == 126, "defect 15: per-cycle damping (101 -> %lld)",
	      (long long)d.fee_ppm);
}

/* ---- property loops ---- */

static void random_case(struct rng *r, struct fee_ctl_params *p,
			struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->min_std_ppm = 10;
	st->prior_std_ppm = 10 + rng_unit(r) * 300;
	st->prior_mean_ppm = rng_unit(r) * 3000;
	p->min_fee_ppm = (int64_t)rng_below(r, 100);
	p->max_fee_ppm = p->min_fee_ppm + (int64_t)rng_below(r, 5000);
	o->capacity_sat = 100000 + rng_below(r, 10000000);
	o->local_sat = rng_below(r, o->capacity_sat + 1);
	set_fee(st, o, (int64_t)rng_below(r, 6000));
	o->flow_class = (enum flow_class)rng_below(r, FLOW_CLASS_NUM);
	o->congested = rng_below(r, 6) == 0;
	o->htlc_util = rng_unit(r);
	o->total_forward_count = rng_below(r, 10);
	o->win_forwards = (uint32_t)rng_below(r, 8);
	o->win_fee_failures = (uint32_t)rng_below(r, 5);
	o->win_out_msat = rng_below(r, 5000000000ULL);
	o->feerate_perkb = rng_below(r, 3) ? 0 : rng_unit(r) * 200000;
	o->pnl_class = (enum pnl_class)rng_below(r, PNL_CLASS_NUM);
	o->roi = rng_unit(r) * 2 - 1;
	o->marginal_roi = rng_unit(r) * 2 - 1;
	o->opener = rng_below(r, 2) ? PNL_OPENER_LOCAL : PNL_OPENER_REMOTE;
	o->lifetime_out_count = rng_below(r, 3);
	o->time_intensity = rng_unit(r);
	o->regime_change = rng_below(r, 4) == 0;
	p->fire_sale_enabled = rng_below(r, 2);
	if (rng_below(r, 3) == 0)
		idle(o);
	if (rng_below(r, 4) == 0) {
		o->mempool_satvb = 1 + rng_unit(r) * 100;
		o->mempool_ma_satvb = 1 + rng_unit(r) * 30;
		o->mempool_sample_sec = NOW;
	}
	o->rebalance_samples_30d = (uint32_t)rng_below(r, 6);
	o->rebalance_amount_30d_msat = (int64_t)rng_below(r, 100000000000ULL);
	o->rebalance_cost_30d_msat = (int64_t)rng_below(r, 500000000ULL);
	st->last_update_sec = NOW - rng_below(r, 10 * HOUR);
}

static void test_bounds_property(void)
{
	struct rng gen;
	int bad = 0, errors = 0, n = 20000, normal_sets = 0;

	rng_seed(&gen, 2024);
	for (int i = 0; i < n; i++) {
		struct fee_ctl_params p;
		struct fee_ctl_state st;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d;
		struct rng r;
		const char *err;

		random_case(&gen, &p, &st, &o);
		rng_seed(&r, (uint64_t)i);
		err = fee_ctl_step(&p, &st, &o, NOW, &r, &d);
		if (err) {
			errors++;
			continue;
		}
		if (d.fee_ppm < 0 || d.fee_ppm > p.abs_max_fee_ppm)
			bad++;
		if (d.action == FEE_CTL_SET && d.cls == FEE_CLASS_NORMAL) {
			normal_sets++;
			if (d.fee_ppm < d.floor_ppm ||
			    d.fee_ppm > d.ceiling_ppm) {
				if (bad++ < 5) {
					printf("# case %d: fee %lld outside "
					       "[%lld, %lld]\n",
					       i, (long long)d.fee_ppm,
					       (long long)d.floor_ppm,
					       (long long)d.ceiling_ppm);
					dump(&d);
				}
			}
		}
		if (d.action == FEE_CTL_SET && d.fee_ppm == o.chain_fee_ppm &&
		    d.base_fee_msat == o.chain_base_msat)
			bad++; /* a "set" that changes nothing */
	}
	CHECK(errors == 0 && bad == 0 && normal_sets > n / 10,
	      "20000 random channels: fees inside rails and [floor, ceiling] "
	      "(%d bad, %d errors, %d normal sets)",
	      bad, errors, normal_sets);
}

static void test_reproducible(void)
{
	struct rng gen;
	int differ = 0;

	rng_seed(&gen, 31337);
	for (int i = 0; i < 500; i++) {
		struct fee_ctl_params p;
		struct fee_ctl_state a, b;
		struct fee_ctl_obs o;
		struct fee_ctl_decision da, db;
		struct rng ra, rb;

		random_case(&gen, &p, &a, &o);
		b = a;
		rng_seed(&ra, 99 + i);
		rng_seed(&rb, 99 + i);
		step(&p, &a, &o, NOW, &ra, &da);
		step(&p, &b, &o, NOW, &rb, &db);
		if (memcmp(&a, &b, sizeof(a)) != 0 ||
		    da.fee_ppm != db.fee_ppm || da.action != db.action)
			differ++;
	}
	CHECK_EQ_INT(differ, 0, "same seed, same state and decision");
}

/* A synthetic market: revenue per hour at fee f is
 * rmax exp(-((f - 300) / 100)^2) sat, noisy (lognormal, sigma 0.3), so
 * the volume is revenue x 1e6 / f sat. One cycle per hour. */
struct sim {
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	uint64_t now;
	double acc_msat;
	uint32_t acc_fwd;
	struct rng rng, noise;
	double rmax, peak;
};

static void sim_init(struct sim *s, uint64_t seed, int64_t start, double rmax)
{
	struct fee_ctl_params p;

	base(&s->p, &s->st, &s->o);
	p = s->p;
	fee_ctl_params_default(&s->p);
	(void)p;
	s->o.pnl_known = false;
	s->o.chain_fee_ppm = start;
	memset(&s->st, 0, sizeof(s->st)); /* auto-seeded from the live fee */
	s->now = NOW;
	s->acc_msat = 0;
	s->acc_fwd = 0;
	rng_seed(&s->rng, seed);
	rng_fork(&s->rng, 1, &s->noise);
	s->rmax = rmax;
	s->peak = 300;
}

static void sim_cycle(struct sim *s, struct fee_ctl_decision *d)
{
	double f = (double)s->o.chain_fee_ppm, rev, vol_sat;

	rev = s->rmax * exp(-pow((f - s->peak) / 100, 2)) *
	      rng_lognormal(&s->noise, 0, 0.3);
	vol_sat = f > 0 ? rev * 1e6 / f : 0;
	s->acc_msat += vol_sat * 1000;
	s->acc_fwd += 5;
	s->now += HOUR;
	s->o.win_out_msat = (uint64_t)s->acc_msat;
	s->o.win_forwards = s->acc_fwd;
	s->o.last_forward_sec = s->now;
	step(&s->p, &s->st, &s->o, s->now, &s->rng, d);
	if (d->action == FEE_CTL_SET) {
		s->o.chain_fee_ppm = d->fee_ppm;
		s->o.chain_base_msat = d->base_fee_msat;
	}
	if (s->st.last_update_sec == s->now) {
		s->acc_msat = 0;
		s->acc_fwd = 0;
	}
}

static void run_convergence(const char *name, int64_t start, double rmax)
{
	int ok_seeds = 0, seeds = 5;

	for (int seed = 0; seed < seeds; seed++) {
		struct sim s;
		struct fee_ctl_decision d;
		struct fee_ctl_posterior post;
		double sum = 0;
		int n = 0;

		sim_init(&s, 500 + seed, start, rmax);
		for (int c = 0; c < 1000; c++) {
			sim_cycle(&s, &d);
			if (c >= 800) {
				sum += (double)s.o.chain_fee_ppm;
				n++;
			}
		}
		fee_ctl_posterior(&s.p, &s.st, s.now, &post);
		if (post.mean_ppm > 260 && post.mean_ppm < 340 &&
		    sum / n > 250 && sum / n < 350)
			ok_seeds++;
		else
			printf(
			    "# %s seed %d: posterior %g +- %g, mean fee %g\n",
			    name, seed, post.mean_ppm, post.std_ppm, sum / n);
	}
	CHECK_EQ_INT(ok_seeds, seeds,
		     "convergence %s: the posterior and the fee end near the "
		     "300 ppm revenue peak after 1000 cycles",
		     name);
}

static void test_convergence(void)
{
	run_convergence("from 200 ppm, 20 sat/h", 200, 20);
	run_convergence("from 800 ppm, 20 sat/h", 800, 20);
	/* A busy channel (2000 sat/h): the reference's absolute revenue
	 * weighting saturates at 100 sat/h and stops learning here. */
	run_convergence("from 150 ppm, busy 2000 sat/h", 150, 2000);
}

/* Contexts: days of 12 peak hours (revenue peaks at 360 ppm) and 12 quiet
 * hours (peak at 260 ppm). The global posterior settles in between; the
 * time-of-day contexts shift the sampled mean toward each one's peak. */
static void test_contexts(void)
{
	struct sim s;
	struct fee_ctl_decision d;
	double peak_mu = 0, quiet_mu = 0, peak_fee = 0, quiet_fee = 0;
	int np = 0, nq = 0, with_ctx = 0;

	sim_init(&s, 4321, 300, 20);
	for (int c = 0; c < 2000; c++) {
		bool peak = (c / 12) % 2 == 0;
		s.peak = peak ? 360 : 260;
		s.o.time_intensity = peak ? 0.9 : 0.1;
		sim_cycle(&s, &d);
		if (c < 1000 || c % 12 == 0 ||
		    !d.steps[FEE_STEP_THOMPSON].applied)
			continue;
		with_ctx += str_eq(d.steps[FEE_STEP_THOMPSON].reason,
				   "sample_context");
		if (peak) {
			peak_mu += fee_ctl_step_num(&d, FEE_STEP_THOMPSON,
						    "sample_mean_ppm");
			peak_fee += (double)s.o.chain_fee_ppm;
			np++;
		} else {
			quiet_mu += fee_ctl_step_num(&d, FEE_STEP_THOMPSON,
						     "sample_mean_ppm");
			quiet_fee += (double)s.o.chain_fee_ppm;
			nq++;
		}
	}
	peak_mu /= np;
	quiet_mu /= nq;
	peak_fee /= np;
	quiet_fee /= nq;
	CHECK(with_ctx == np + nq && peak_mu - quiet_mu > 25 &&
		  peak_fee - quiet_fee > 15,
	      "contexts separate peak and quiet hours: sampled mean %g vs %g, "
	      "fee %g vs %g (%d of %d context samples)",
	      peak_mu, quiet_mu, peak_fee, quiet_fee, with_ctx, np + nq);
}

/* ---- state: serialisation, restart, splice, errors ---- */

static void test_serialisation(void)
{
	static double buf[FEE_CTL_STATE_MAX_LEN], buf2[FEE_CTL_STATE_MAX_LEN];
	struct sim s;
	struct fee_ctl_decision d, d2;
	struct fee_ctl_state copy, before;
	struct fee_ctl_obs o2;
	struct rng r1, r2;
	size_t n, n2;
	int differ = 0;
	const char *err;

	sim_init(&s, 77, 200, 20);
	for (int c = 0; c < 300; c++)
		sim_cycle(&s, &d);
	n = fee_ctl_state_serialise(&s.st, buf, FEE_CTL_STATE_MAX_LEN);
	CHECK(n == fee_ctl_state_serialised_len(&s.st) && n > 60 &&
		  buf[0] == FEE_CTL_STATE_VERSION,
	      "serialised %zu numbers (%u observations)", n, s.st.n_obs);
	CHECK(fee_ctl_state_serialise(&s.st, buf2, n - 1) == 0,
	      "a too-small buffer is refused");
	/* The documented layout is a contract with the caller's storage. */
	CHECK(n == FEE_CTL_STATE_HEADER_LEN + 5 * (size_t)s.st.n_obs &&
		  buf[1] == (double)s.st.last_set_fee_ppm &&
		  buf[4] == (double)s.st.last_update_sec &&
		  buf[9] == s.st.prior_mean_ppm &&
		  buf[12] == s.st.aimd_modifier &&
		  buf[19] == s.st.vegas_intensity &&
		  buf[28] == (double)s.st.probe_attempts &&
		  buf[31] == (double)s.st.n_obs &&
		  buf[n - 5] == s.st.obs[(s.st.obs_head + FEE_CTL_MAX_OBS - 1) %
					 FEE_CTL_MAX_OBS]
				    .fee_ppm,
	      "serialised layout: 32 + 5 n numbers, fields at their indexes, "
	      "newest observation last");

	memset(&copy, 0, sizeof(copy));
	err = fee_ctl_state_deserialise(&copy, buf, n);
	n2 = fee_ctl_state_serialise(&copy, buf2, FEE_CTL_STATE_MAX_LEN);
	CHECK(err == NULL && n2 == n &&
		  memcmp(buf, buf2, n * sizeof(double)) == 0,
	      "round trip is exact %s", err ? err : "");

	/* A restart: the reloaded state continues exactly like the live one. */
	o2 = s.o;
	r1 = s.rng;
	r2 = s.rng;
	for (int c = 0; c < 50; c++) {
		uint64_t t = s.now + (uint64_t)(c + 1) * HOUR;
		struct fee_ctl_obs o1 = s.o;
		step(&s.p, &s.st, &o1, t, &r1, &d);
		step(&s.p, &copy, &o2, t, &r2, &d2);
		if (d.action != d2.action || d.fee_ppm != d2.fee_ppm)
			differ++;
		if (d.action == FEE_CTL_SET) {
			s.o.chain_fee_ppm = d.fee_ppm;
			o2.chain_fee_ppm = d2.fee_ppm;
		}
	}
	CHECK_EQ_INT(differ, 0, "a restarted state decides like the live one");

	/* Malformed input. */
	buf2[0] = 2;
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n) != NULL,
	      "unknown version refused");
	memcpy(buf2, buf, n * sizeof(double));
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n - 1) != NULL,
	      "truncated refused");
	buf2[n] = 0;
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n + 1) != NULL,
	      "trailing data refused");
	buf2[3] = NAN;
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n) != NULL,
	      "NaN refused");
	memcpy(buf2, buf, n * sizeof(double));
	buf2[1] = 1.5; /* last_set_fee_ppm must be whole */
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n) != NULL,
	      "a fractional integer field refused");
	before = copy;
	memcpy(buf2, buf, n * sizeof(double));
	buf2[n - 5 * s.st.n_obs - 1] = FEE_CTL_MAX_OBS + 1;
	CHECK(fee_ctl_state_deserialise(&copy, buf2, n) != NULL &&
		  memcmp(&before, &copy, sizeof(copy)) == 0,
	      "too many observations refused, state unchanged");
	CHECK(fee_ctl_state_deserialise(&copy, NULL, 0) != NULL,
	      "empty input refused");
}

static void test_splice_and_errors(void)
{
	struct sim s;
	struct fee_ctl_decision d;
	struct fee_ctl_posterior before, after;
	struct fee_ctl_state saved;
	uint32_t nobs;
	struct rng r;

	sim_init(&s, 88, 250, 20);
	for (int c = 0; c < 100; c++)
		sim_cycle(&s, &d);
	fee_ctl_posterior(&s.p, &s.st, s.now, &before);
	nobs = s.st.n_obs;
	/* Splice-in: the channel doubles; same state, same channel. */
	s.o.capacity_sat *= 2;
	s.o.local_sat += s.o.capacity_sat / 2;
	sim_cycle(&s, &d);
	fee_ctl_posterior(&s.p, &s.st, s.now, &after);
	CHECK(d.action != FEE_CTL_ADOPT_EXTERNAL && s.st.n_obs >= nobs &&
		  fabs(after.mean_ppm - before.mean_ppm) < 30,
	      "a splice keeps the learned state (%u -> %u obs, mean %g -> %g)",
	      nobs, s.st.n_obs, before.mean_ppm, after.mean_ppm);

	/* Errors leave the state untouched. */
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	rng_seed(&r, 1);
	c_baseline(&p, &st, &o);
	saved = st;
	o.capacity_sat = 0;
	CHECK(fee_ctl_step(&p, &st, &o, NOW, &r, &d) != NULL &&
		  memcmp(&saved, &st, sizeof(st)) == 0 &&
		  d.action == FEE_CTL_NO_CHANGE,
	      "zero capacity: error, state untouched");
	c_baseline(&p, &st, &o);
	p.min_fee_ppm = 6000;
	CHECK(fee_ctl_step(&p, &st, &o, NOW, &r, &d) != NULL,
	      "min above max: error");
	c_baseline(&p, &st, &o);
	o.roi = NAN;
	CHECK(fee_ctl_step(&p, &st, &o, NOW, &r, &d) != NULL,
	      "NaN observation: error");
	c_baseline(&p, &st, &o);
	o.local_sat = o.capacity_sat + 1;
	CHECK(fee_ctl_step(&p, &st, &o, NOW, &r, &d) != NULL,
	      "local above capacity: error");
	c_baseline(&p, &st, &o);
	st.version = FEE_CTL_STATE_VERSION + 1;
	CHECK(fee_ctl_step(&p, &st, &o, NOW, &r, &d) != NULL,
	      "a state from a newer version: error");
	c_baseline(&p, &st, &o);
	st.prior_mean_ppm = NAN;
	CHECK(fee_ctl_step(&p, &st, &o, NOW, &r, &d) != NULL,
	      "a state with a NaN prior: error");
	c_baseline(&p, &st, &o);
	o.policy.strategy = (enum fee_ctl_strategy)9;
	CHECK(fee_ctl_step(&p, &st, &o, NOW, &r, &d) != NULL,
	      "an unknown strategy: error");

	/* Passive never writes, not even to seed a fresh row. */
	struct fee_ctl_state zero;
	c_passive(&p, &st, &o);
	memset(&st, 0, sizeof(st));
	zero = st;
	CHECK(fee_ctl_step(&p, &st, &o, NOW, &r, &d) == NULL &&
		  memcmp(&zero, &st, sizeof(st)) == 0,
	      "passive leaves a fresh state unseeded");
}

/* ---- the operator's fee anchor ---- */

/* An anchor active until an hour from now. */
static void anchor(struct fee_ctl_obs *o, int64_t target, double confidence,
		   double base_weight)
{
	o->anchor_target_ppm = target;
	o->anchor_confidence = confidence;
	o->anchor_base_weight = base_weight;
	o->anchor_expires_sec = NOW + HOUR;
}

/* The baseline with a spread posterior (the sample really is random) and
 * no damping, so the Thompson step's fee is the rounded, clamped sample. */
static void anchor_base(struct fee_ctl_params *p, struct fee_ctl_state *st,
			struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->prior_std_ppm = 100;
	p->damp_ratio = 1000;
}

static int64_t thompson_fee(const struct fee_ctl_decision *d)
{
	return d->steps[FEE_STEP_THOMPSON].fee_out_ppm;
}

static void test_anchor_hand_computed(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	/* Sample exactly 200 (prior std 0); anchor 1000 ppm, confidence
	 * 0.8, base weight 0.7: w = 0.56, fee = 0.56 x 1000 + 0.44 x 200 =
	 * 648. Damping off, so nothing else moves it. */
	base(&p, &st, &o);
	p.damp_ratio = 1000;
	anchor(&o, 1000, 0.8, 0.7);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK_EQ_INT(thompson_fee(&d), 648, "anchor: 0.56 x 1000 + 0.44 x 200");
	CHECK(d.action == FEE_CTL_SET && d.fee_ppm == 648 &&
		  d.decided_by == FEE_STEP_THOMPSON,
	      "anchor: the blended fee is set (%s %lld by %s)",
	      fee_ctl_action_name(d.action), (long long)d.fee_ppm,
	      fee_ctl_step_name(d.decided_by));
	CHECK(near(fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "anchor_weight"),
		   0.56, 1e-12) &&
		  fee_ctl_step_num(&d, FEE_STEP_THOMPSON,
				   "anchor_target_ppm") == 1000 &&
		  fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "sampled_ppm") ==
		      200 &&
		  near(fee_ctl_step_num(&d, FEE_STEP_THOMPSON, "anchored_ppm"),
		       648, 1e-9) &&
		  fee_ctl_step_num(&d, FEE_STEP_THOMPSON,
				   "anchor_confidence") == 0.8 &&
		  fee_ctl_step_num(&d, FEE_STEP_THOMPSON,
				   "anchor_base_weight") == 0.7 &&
		  fee_ctl_step_num(&d, FEE_STEP_THOMPSON,
				   "anchor_expires_sec") == NOW + HOUR,
	      "anchor: the Thompson step records target, weights, sample and "
	      "blend");

	/* With the default damping the fee only moves a cycle's worth
	 * (max(25 % of 200, 25) = 50) toward the target. */
	base(&p, &st, &o);
	anchor(&o, 1000, 0.8, 0.7);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK_EQ_INT(d.fee_ppm, 250, "anchor: damping still limits a cycle");
	/* Target below the floor (21): full weight pulls to the floor, not
	 * under it. */
	base(&p, &st, &o);
	p.damp_ratio = 1000;
	anchor(&o, 0, 1, 1);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK_EQ_INT(d.fee_ppm, 21, "anchor at 0 ppm: the floor still wins");
}

/* With a random sample: the blend is exactly round(w x target + (1 - w) x
 * sample) of the sample the same seed draws without an anchor, and the
 * anchor leaves the rng where it would have been. */
static void test_anchor_blend_property(void)
{
	static const struct {
		int64_t target;
		double conf, bw;
	} a[] = {{1000, 1.0, 0.7}, {50, 0.5, 0.9}, {300, 0.25, 1.0},
		 {4000, 1.0, 0.3}};
	int bad = 0, n = 0, moved = 0;

	for (size_t k = 0; k < sizeof(a) / sizeof(a[0]); k++)
		for (uint64_t seed = 1; seed <= 200; seed++) {
			struct fee_ctl_params p;
			struct fee_ctl_state s0, s1;
			struct fee_ctl_obs o;
			struct fee_ctl_decision d0, d1;
			struct rng r0, r1;
			double sample, w = a[k].bw * a[k].conf, want_d;
			int64_t want;

			anchor_base(&p, &s0, &o);
			memcpy(&s1, &s0, sizeof(s1));
			rng_seed(&r0, seed);
			rng_seed(&r1, seed);
			step(&p, &s0, &o, NOW, &r0, &d0);
			anchor(&o, a[k].target, a[k].conf, a[k].bw);
			step(&p, &s1, &o, NOW, &r1, &d1);
			sample = fee_ctl_step_num(&d0, FEE_STEP_THOMPSON,
						  "sample_ppm");
			want_d = w * (double)a[k].target + (1 - w) * sample;
			want = want_d + 0.5 > 0 ? (int64_t)(want_d + 0.5) : 0;
			if (want < d1.floor_ppm)
				want = d1.floor_ppm;
			if (want > d1.ceiling_ppm)
				want = d1.ceiling_ppm;
			n++;
			if (thompson_fee(&d1) != want ||
			    fee_ctl_step_num(&d1, FEE_STEP_THOMPSON,
					     "sampled_ppm") != sample ||
			    rng_u64(&r0) != rng_u64(&r1)) {
				if (bad++ < 5)
					printf("# target %lld w %g seed %llu: "
					       "sample %g -> %lld, want "
					       "%lld\n",
					       (long long)a[k].target, w,
					       (unsigned long long)seed,
					       sample,
					       (long long)thompson_fee(&d1),
					       (long long)want);
			}
			/* Never farther from the target than without. */
			if (llabs(thompson_fee(&d1) - a[k].target) >
			    llabs(thompson_fee(&d0) - a[k].target))
				bad++;
			if (thompson_fee(&d1) != thompson_fee(&d0))
				moved++;
		}
	CHECK(bad == 0 && moved > n / 2,
	      "anchor: %d seeded samples blended exactly and pulled toward "
	      "the target (%d bad, %d moved)",
	      n, bad, moved);
}

/* Cases where the anchor must change nothing at all: the same seed gives
 * the same decision and state as without an anchor. */
static void test_anchor_no_effect(void)
{
	static const struct {
		const char *name;
		double conf, bw;
		uint64_t expires; /* relative to NOW */
	} c[] = {
	    {"confidence 0", 0, 0.7, HOUR},
	    {"base weight 0", 1, 0, HOUR},
	    {"expired at now", 1, 1, 0},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct fee_ctl_params p;
		struct fee_ctl_state s0, s1;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d0, d1;
		struct rng r0, r1;

		anchor_base(&p, &s0, &o);
		memcpy(&s1, &s0, sizeof(s1));
		rng_seed(&r0, 7);
		rng_seed(&r1, 7);
		step(&p, &s0, &o, NOW, &r0, &d0);
		anchor(&o, 3000, c[i].conf, c[i].bw);
		o.anchor_expires_sec = NOW + c[i].expires;
		step(&p, &s1, &o, NOW, &r1, &d1);
		CHECK(d1.fee_ppm == d0.fee_ppm &&
			  thompson_fee(&d1) == thompson_fee(&d0) &&
			  d1.action == d0.action &&
			  memcmp(&s0, &s1, sizeof(s0)) == 0,
		      "anchor with %s: fee %lld as without (%lld)", c[i].name,
		      (long long)d1.fee_ppm, (long long)d0.fee_ppm);
	}
	{
		/* An expired anchor is not even reported. */
		struct fee_ctl_params p;
		struct fee_ctl_state st;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d;
		struct rng r;

		anchor_base(&p, &st, &o);
		anchor(&o, 3000, 1, 1);
		o.anchor_expires_sec = NOW - 1;
		rng_seed(&r, 7);
		step(&p, &st, &o, NOW, &r, &d);
		CHECK(isnan(fee_ctl_step_num(&d, FEE_STEP_THOMPSON,
					     "anchor_weight")),
		      "expired anchor: no anchor numbers");
	}
}

/* The priority order: an anchor only moves the Thompson sample. */
static void test_anchor_priority(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	base(&p, &st, &o);
	o.policy.strategy = FEE_CTL_STATIC;
	o.policy.fee_ppm_target = 333;
	anchor(&o, 3000, 1, 1);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.fee_ppm == 333 && d.decided_by == FEE_STEP_POLICY &&
		  !d.steps[FEE_STEP_THOMPSON].evaluated,
	      "anchor: a static policy wins (%lld by %s)", (long long)d.fee_ppm,
	      fee_ctl_step_name(d.decided_by));

	base(&p, &st, &o);
	o.policy.strategy = FEE_CTL_PASSIVE;
	anchor(&o, 3000, 1, 1);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.action == FEE_CTL_NO_CHANGE && d.fee_ppm == 200,
	      "anchor: a passive channel is left alone");

	/* Far above the ceiling (5000), full weight, no damping: the
	 * ceiling. */
	base(&p, &st, &o);
	p.damp_ratio = 1000;
	anchor(&o, 90000, 1, 1);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(thompson_fee(&d) == 5000 && d.fee_ppm == 5000 &&
		  d.ceiling_ppm == 5000,
	      "anchor above the ceiling: the ceiling (%lld)",
	      (long long)d.fee_ppm);

	/* The operator's own fee is held: the anchor waits. */
	base(&p, &st, &o);
	st.external_adopted_sec = NOW - HOUR;
	anchor(&o, 3000, 1, 1);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.decided_by == FEE_STEP_EXTERNAL && d.fee_ppm == 200,
	      "anchor: the external hold still holds");

	/* Congestion pre-empts Thompson. */
	base(&p, &st, &o);
	o.congested = true;
	anchor(&o, 10, 1, 1);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.decided_by == FEE_STEP_CONGESTION && d.fee_ppm > 200,
	      "anchor: congestion still raises (%lld)", (long long)d.fee_ppm);

	/* Waiting for the window: no sample, so no anchor. */
	base(&p, &st, &o);
	st.last_update_sec = NOW - 600;
	anchor(&o, 3000, 1, 1);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(d.fee_ppm == 200 && d.skip_reason &&
		  !strcmp(d.skip_reason, "waiting_time") &&
		  isnan(fee_ctl_step_num(&d, FEE_STEP_THOMPSON,
					 "anchor_weight")),
	      "anchor: a waiting window keeps the fee");

	/* Scarcity still multiplies the blended fee (outbound 0.1 < 0.35:
	 * 1 + 2 (1 - 0.1 / 0.35) = 2.43, capped by the ceiling). */
	base(&p, &st, &o);
	p.damp_ratio = 1000;
	o.local_sat = 200000;
	anchor(&o, 400, 1, 1);
	rng_seed(&r, 1);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(thompson_fee(&d) == 400 && d.fee_ppm > 400 &&
		  d.decided_by == FEE_STEP_SCARCITY,
	      "anchor: scarcity applies after it (%lld -> %lld)",
	      (long long)thompson_fee(&d), (long long)d.fee_ppm);
}

static void test_anchor_invalid(void)
{
	static const struct {
		const char *name;
		int64_t target;
		double conf, bw;
	} c[] = {
	    {"confidence 1.5", 100, 1.5, 0.7},
	    {"negative base weight", 100, 1, -0.1},
	    {"NaN confidence", 100, NAN, 0.7},
	    {"target above the rail", 100001, 1, 0.7},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct fee_ctl_params p;
		struct fee_ctl_state st, before;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d;
		struct rng r;
		const char *err;

		base(&p, &st, &o);
		anchor(&o, c[i].target, c[i].conf, c[i].bw);
		memcpy(&before, &st, sizeof(before));
		rng_seed(&r, 1);
		err = fee_ctl_step(&p, &st, &o, NOW, &r, &d);
		CHECK(err && !strcmp(err, "fee_ctl: invalid fee anchor") &&
			  d.action == FEE_CTL_NO_CHANGE &&
			  memcmp(&st, &before, sizeof(st)) == 0,
		      "anchor with %s refused, state untouched (%s)",
		      c[i].name, err ? err : "no error");
	}
}

/* Random channels with random anchors: still inside the rails and, for a
 * normal fee, inside [floor, ceiling]. */
static void test_anchor_bounds_property(void)
{
	struct rng gen, ag;
	int bad = 0, errors = 0, n = 5000;

	rng_seed(&gen, 4242);
	rng_seed(&ag, 77);
	for (int i = 0; i < n; i++) {
		struct fee_ctl_params p;
		struct fee_ctl_state st;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d;
		struct rng r;

		random_case(&gen, &p, &st, &o);
		anchor(&o, (int64_t)rng_below(&ag, 100001), rng_unit(&ag),
		       rng_unit(&ag));
		rng_seed(&r, (uint64_t)i);
		if (fee_ctl_step(&p, &st, &o, NOW, &r, &d)) {
			errors++;
			continue;
		}
		if (d.fee_ppm < 0 || d.fee_ppm > p.abs_max_fee_ppm ||
		    (d.action == FEE_CTL_SET && d.cls == FEE_CLASS_NORMAL &&
		     (d.fee_ppm < d.floor_ppm || d.fee_ppm > d.ceiling_ppm)))
			bad++;
	}
	CHECK(errors == 0 && bad == 0,
	      "anchor: %d random anchored channels inside rails and bounds "
	      "(%d bad, %d errors)",
	      n, bad, errors);
}

static void test_names(void)
{
	CHECK_EQ_STR(fee_ctl_step_name(FEE_STEP_FIRE_SALE), "fire_sale",
		     "step name");
	CHECK_EQ_STR(fee_ctl_step_name(FEE_STEP_NUM), "unknown",
		     "out-of-range step name");
	CHECK_EQ_STR(fee_ctl_class_name(FEE_CLASS_CONGESTION), "congestion",
		     "class name");
	CHECK_EQ_STR(fee_ctl_action_name(FEE_CTL_ADOPT_EXTERNAL),
		     "adopt_external", "action name");
	CHECK_EQ_STR(fee_ctl_strategy_name(FEE_CTL_HIVE), "hive",
		     "strategy name");
	CHECK(fee_ctl_context_index(0.1, 0.9) == 0 * 3 + 2 &&
		  fee_ctl_context_index(0.9, -1) == 4 * 3 + 1 &&
		  fee_ctl_context_index(0.5, 0.1) == 2 * 3 + 0,
	      "context index: balance bucket x 3 + time bucket");
}

int main(void)
{
	test_step_table();
	test_preemption();
	test_window_bookkeeping();
	test_liquidity_value();
	test_defect3_low_fee_modes_bypass_clamp();
	test_defect4_hive_fee_applied();
	test_defect5_6_vegas();
	test_vegas_early_trigger();
	test_defect7_opener_and_capacity();
	test_defect8_min_fee_inviolable();
	test_defect9_profit_adjustment();
	test_defect10_context_churn();
	test_defect11_slot_threshold();
	test_defect12_aimd();
	test_defect13_waiting_forwards();
	test_defect14_seeded_prior();
	test_defect15_runaway();
	test_bounds_property();
	test_reproducible();
	test_convergence();
	test_contexts();
	test_serialisation();
	test_splice_and_errors();
	test_anchor_hand_computed();
	test_anchor_blend_property();
	test_anchor_no_effect();
	test_anchor_priority();
	test_anchor_invalid();
	test_anchor_bounds_property();
	test_names();
	return check_done();
}
