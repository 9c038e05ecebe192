/* Unit tests for engine/fee_ctl_emergency.c: the emergency rules
 * (VEGAS, CONGESTION, PROBE, FIRE_SALE).
 *
 *  - A step table for the four steps, with hand-computed fees.
 *  - The probe's bookkeeping (attempts, success, expiry, cooldown).
 *  - The reference defects these steps fix (5, 6, 15), each named after
 *    its number, and the Vegas early trigger's odds over fixed seeds. */
#include "engine/test/fee_ctl_cases.h"

/* ---- the step table ---- */

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

static const struct step_case step_cases[] = {
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
};

static void test_step_table(void)
{
	RUN_STEP_TABLE(step_cases, FEE_STEP_CONGESTION, FEE_STEP_VEGAS,
		       FEE_STEP_PROBE, FEE_STEP_FIRE_SALE);
}

/* ---- state effects ---- */

static void test_probe_bookkeeping(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 5);
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

/* Defect 15: the 101 -> 2612 ppm runaway; bounded congestion episodes
 * (the per-cycle damping: run-fee_ctl_learn.c). */
static void test_defect15_bounded_episode(void)
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
}

int main(void)
{
	test_step_table();
	test_probe_bookkeeping();
	test_defect5_6_vegas();
	test_vegas_early_trigger();
	test_defect15_bounded_episode();
	return check_done();
}
