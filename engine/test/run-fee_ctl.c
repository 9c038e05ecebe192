/* Unit tests for engine/fee_ctl_order.c (the priority order itself) and
 * engine/fee_ctl.c (the names).
 *
 *  - A step table for POLICY and EXTERNAL, the two steps that decide who
 *    owns the fee, with hand-computed fees.
 *  - A pre-emption table: with the conditions of two steps true at once,
 *    the higher one decides and the lower one is not reached (or is
 *    deferred).
 *  - The state effects of a decision (a set, an adoption, passive), the
 *    reference defects the order fixes (3, 4, 14), input errors, fixed-
 *    seed reproducibility and the names.
 *
 * The other steps' tables are in run-fee_ctl_<file>.c, one per file of
 * the controller; the shared setups in fee_ctl_cases.h. */
#include "engine/test/fee_ctl_cases.h"

/* ---- the step table: who owns the fee ---- */

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

static const struct step_case step_cases[] = {
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
};

static void test_step_table(void)
{
	RUN_STEP_TABLE(step_cases, FEE_STEP_POLICY, FEE_STEP_EXTERNAL);
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

/* ---- state effects of the decisions ---- */

static void test_decision_bookkeeping(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	rng_seed(&r, 5);
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

/* ---- errors, reproducibility, names ---- */

static void test_errors(void)
{
	struct fee_ctl_params p;
	struct fee_ctl_state st, saved;
	struct fee_ctl_obs o;
	struct fee_ctl_decision d;
	struct rng r;

	/* Errors leave the state untouched. */
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
	test_decision_bookkeeping();
	test_defect3_low_fee_modes_bypass_clamp();
	test_defect4_hive_fee_applied();
	test_defect14_seeded_prior();
	test_errors();
	test_reproducible();
	test_names();
	return check_done();
}
