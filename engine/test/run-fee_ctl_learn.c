/* Unit tests for engine/fee_ctl_learn.c: learning (the observation
 * window, the posterior and its contexts, AIMD, THOMPSON and the
 * operator's fee anchor).
 *
 *  - A step table for THOMPSON and the window's holds, with hand-computed
 *    fees; what a closed window records; the liquidity credit.
 *  - The reference defects these fix (9, 12, 13, 15's damping), each
 *    named after its number.
 *  - Fixed-seed property loops: the learner converges to the peak of a
 *    synthetic revenue curve (300 ppm) from below and above and on a busy
 *    channel, and its contexts separate peak and quiet hours.
 *  - The fee anchor: hand-computed blends, the blend over many seeds, the
 *    cases where it changes nothing, its place in the order, invalid
 *    anchors, and random anchored channels inside the bounds. */
#include "engine/test/fee_ctl_cases.h"

/* ---- the step table ---- */

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

static const struct step_case step_cases[] = {
    {.name = "thompson: sampled fee", .setup = c_thompson,
     .decided_by = FEE_STEP_THOMPSON, .action = FEE_CTL_SET,
     .fee_ppm = 230, .cls = FEE_CLASS_NORMAL, .reason = "sample_prior"},
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

static void test_step_table(void)
{
	RUN_STEP_TABLE(step_cases, FEE_STEP_THOMPSON);
}

/* ---- the observation window ---- */

static void test_window_observation(void)
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

	/* Waiting keeps it open too. */
	c_waiting_time(&p, &st, &o);
	step(&p, &st, &o, NOW, &r, &d);
	CHECK(!d.observation_recorded && st.last_update_sec == NOW - 1800,
	      "waiting keeps the window open");
}

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

/* ---- defects ---- */

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

/* Defect 15: the 101 -> 2612 ppm runaway; per-cycle damping (the bounded
 * congestion episodes: run-fee_ctl_emergency.c). */
static void test_defect15_damping(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 15);
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

int main(void)
{
	test_step_table();
	test_window_observation();
	test_liquidity_value();
	test_defect9_profit_adjustment();
	test_defect12_aimd();
	test_defect13_waiting_forwards();
	test_defect15_damping();
	test_convergence();
	test_contexts();
	test_anchor_hand_computed();
	test_anchor_blend_property();
	test_anchor_no_effect();
	test_anchor_priority();
	test_anchor_invalid();
	test_anchor_bounds_property();
	return check_done();
}
