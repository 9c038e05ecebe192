/* Unit tests for engine/fee_ctl_guard.c: hysteresis and idempotency
 * (MIN_CHANGE, HYSTERESIS, IDEMPOTENT, REFRESH).
 *
 *  - A step table for the four steps, with hand-computed fees.
 *  - A suppressed change keeps the observation window open.
 *  - The reference defect these fix (10), named after its number. */
#include "engine/test/fee_ctl_cases.h"

/* ---- the step table ---- */

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

static const struct step_case step_cases[] = {
    {.name = "baseline: nothing changes", .setup = c_baseline,
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
};

static void test_step_table(void)
{
	RUN_STEP_TABLE(step_cases, FEE_STEP_MIN_CHANGE, FEE_STEP_HYSTERESIS,
		       FEE_STEP_IDEMPOTENT, FEE_STEP_REFRESH);
}

/* ---- state effects ---- */

static void test_suppressed_keeps_window(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 5);
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
}

/* ---- defects ---- */

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

int main(void)
{
	test_step_table();
	test_suppressed_keeps_window();
	test_defect10_context_churn();
	return check_done();
}
