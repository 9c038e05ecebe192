/* Unit tests for engine/fee_ctl_bounds.c: floors and ceilings (BOUNDS,
 * COLD_START, SCARCITY and the final clamp).
 *
 *  - A step table for the three steps, with hand-computed fees.
 *  - The reference defects these steps fix (7, 8, 11), each named after
 *    its number.
 *  - A fixed-seed property loop: fees stay within the rails and, for a
 *    normal fee, within [floor, ceiling]. */
#include "engine/test/fee_ctl_cases.h"

/* ---- the step table ---- */

/* min_fee 205 > live 200: sample 200 -> clamped to 205. +5 is below the
 * min-change 6 and inside the band 10, but the live fee violates the
 * floor, so both guards stand aside. */
static void c_rail(struct fee_ctl_params *p, struct fee_ctl_state *st,
		   struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->min_fee_ppm = 205;
}

/* 2 forwards ever: fee <= floor 21 + 50 = 71 (sample 240). */
static void c_cold_start(struct fee_ctl_params *p, struct fee_ctl_state *st,
			 struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->total_forward_count = 2;
	st->prior_mean_ppm = 240;
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

static const struct step_case step_cases[] = {
    {.name = "bounds: a floor above the live fee beats the guards",
     .setup = c_rail, .decided_by = FEE_STEP_THOMPSON,
     .action = FEE_CTL_SET, .fee_ppm = 205, .cls = FEE_CLASS_NORMAL,
     .reason = "sample_prior"},
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
};

static void test_step_table(void)
{
	RUN_STEP_TABLE(step_cases, FEE_STEP_BOUNDS, FEE_STEP_COLD_START,
		       FEE_STEP_SCARCITY);
}

/* ---- defects ---- */

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

/* ---- property loop ---- */

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

int main(void)
{
	test_step_table();
	test_defect7_opener_and_capacity();
	test_defect8_min_fee_inviolable();
	test_defect11_slot_threshold();
	test_bounds_property();
	return check_done();
}
