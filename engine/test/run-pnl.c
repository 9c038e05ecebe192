/* Unit tests for engine/pnl.c: the classification table (zombie,
 * stagnant, learned thresholds, F3, profitable / break_even /
 * underwater), remote-opened channels, marginal ROI, bleeders, the
 * class's fee adjustment (spec §7 defect 9), ROC, lifetime and period
 * totals, the closed-channel archive (defect 31), bookkeeper cost
 * fallbacks (defect 32), rounding and overflow. Values computed by hand
 * in the comments. */
#include "engine/pnl.h"
#include "tests/check.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NOW 1700000000ULL
#define DAY 86400ULL
#define SAT 1000LL

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void account(const struct pnl_params *p,
		    const struct pnl_channel_obs *o, uint64_t now,
		    struct pnl_channel_result *out)
{
	const char *err = pnl_channel(p, o, now, out);

	if (err)
		CHECK(false, "unexpected pnl_channel error: %s", err);
}

/* A local-opened channel, 100 days old, 5000 sat open cost, routed an
 * hour ago, fee posterior unknown. Cases change what they need. */
static struct pnl_channel_obs base(void)
{
	return (struct pnl_channel_obs){
	    .open_cost_msat = 5000 * SAT,
	    .opened_sec = NOW - 100 * DAY,
	    .last_routed_sec = NOW - 3600,
	    .opener = PNL_OPENER_LOCAL,
	    .capacity_sat = 2000000,
	    .fee_posterior_var = -1,
	    .window_30d_available = true,
	};
}

struct class_case {
	const char *name;
	void (*setup)(struct pnl_channel_obs *o);
	enum pnl_class want;
	const char *want_reason;
	double want_roi;
};

/* fees 6000 sat, cost 5000: net 1000, roi 0.2 > 0.10. */
static void s_profitable(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 6000 * SAT;
	o->fees_earned_30d_msat = 500 * SAT;
}
/* 5200 / 5000: roi 0.04. */
static void s_break_even(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 5200 * SAT;
	o->fees_earned_30d_msat = 100 * SAT;
}
/* 4000 / 5000: roi -0.2 < -0.10, routed recently. */
static void s_underwater(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 4000 * SAT;
	o->fees_earned_30d_msat = 100 * SAT;
}
/* Learned fee (var 1000 < 2500): profitable above 0.05; roi 0.06. */
static void s_learned_profitable(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 5300 * SAT;
	o->fees_earned_30d_msat = 100 * SAT;
	o->fee_posterior_var = 1000;
}
/* Learned: underwater only below -0.15; roi -0.12 is break_even. */
static void s_learned_break_even(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 4400 * SAT;
	o->fees_earned_30d_msat = 100 * SAT;
	o->fee_posterior_var = 1000;
}
/* Last routed 10 days ago, roi -0.2: stagnant. */
static void s_stagnant(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 4000 * SAT;
	o->last_routed_sec = NOW - 10 * DAY;
}
/* Two probes, none succeeded, idle 10 days, roi -0.2: zombie. */
static void s_zombie(struct pnl_channel_obs *o)
{
	s_stagnant(o);
	o->probe_attempts = 2;
}
/* Two probes, the last succeeded 3 days ago, no routing since (last
 * routed 5 days ago): zombie. */
static void s_zombie_stale(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 4000 * SAT;
	o->last_routed_sec = NOW - 5 * DAY;
	o->probe_attempts = 2;
	o->probe_success_sec = NOW - 3 * DAY;
}
/* Success only 1 day ago: give it time. Idle 10 days -> stagnant. */
static void s_probe_recent(struct pnl_channel_obs *o)
{
	s_stagnant(o);
	o->probe_attempts = 2;
	o->probe_success_sec = NOW - DAY;
}
/* A peer-opened channel that never routed: no cost (the peer paid), roi
 * 0, no 30-day contribution, idle 100 days, open 100 days: F3. */
static void s_remote_f3(struct pnl_channel_obs *o)
{
	o->opener = PNL_OPENER_REMOTE;
	o->last_routed_sec = 0;
}
/* Remote-opened and earning: cost 0, net > 0 -> roi 1.0. */
static void s_remote_earning(struct pnl_channel_obs *o)
{
	o->opener = PNL_OPENER_REMOTE;
	o->fees_earned_msat = 10 * SAT;
	o->fees_earned_30d_msat = 10 * SAT;
}
/* Contribution is the larger side: sourced 6000 sat, exit 1 sat. */
static void s_sourced(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 1 * SAT;
	o->sourced_fee_msat = 6000 * SAT;
	o->sourced_fee_30d_msat = 100 * SAT;
}
/* Close cost counts once closed: 6000 - (5000 + 3000) = -2000 -> -0.25. */
static void s_closed(struct pnl_channel_obs *o)
{
	s_profitable(o);
	o->close_cost_msat = 3000 * SAT;
	o->closed = true;
}
/* Open 5000 + splice 2000 + rebalance 1000 = 8000; fees 8000: roi 0. */
static void s_splice(struct pnl_channel_obs *o)
{
	o->fees_earned_msat = 8000 * SAT;
	o->fees_earned_30d_msat = 100 * SAT;
	o->splice_cost_msat = 2000 * SAT;
	o->rebalance_cost_msat = 1000 * SAT;
}

static void test_classes(void)
{
	static const struct class_case cases[] = {
	    {"profitable", s_profitable, PNL_PROFITABLE, "roi_above", 0.2},
	    {"break_even", s_break_even, PNL_BREAK_EVEN, "roi_between",
	     0.04},
	    {"underwater", s_underwater, PNL_UNDERWATER, "roi_below", -0.2},
	    {"learned: profitable at 0.06", s_learned_profitable,
	     PNL_PROFITABLE, "roi_above", 0.06},
	    {"learned: -0.12 is break_even", s_learned_break_even,
	     PNL_BREAK_EVEN, "roi_between", -0.12},
	    {"stagnant", s_stagnant, PNL_STAGNANT, "inactive_underwater",
	     -0.2},
	    {"zombie after two failed probes", s_zombie, PNL_ZOMBIE,
	     "zombie_probe_failed", -0.2},
	    {"zombie: probe success went stale", s_zombie_stale, PNL_ZOMBIE,
	     "zombie_probe_stale", -0.2},
	    {"recent probe success is not a zombie", s_probe_recent,
	     PNL_STAGNANT, "inactive_underwater", -0.2},
	    {"remote-opened, never routed: F3", s_remote_f3, PNL_STAGNANT,
	     "f3_no_contribution", 0},
	    {"remote-opened and earning", s_remote_earning, PNL_PROFITABLE,
	     "roi_above", 1.0},
	    {"sourced contribution counts", s_sourced, PNL_PROFITABLE,
	     "roi_above", 0.2},
	    {"closed: close cost counts", s_closed, PNL_UNDERWATER,
	     "roi_below", -0.25},
	    {"splice and rebalance costs count", s_splice, PNL_BREAK_EVEN,
	     "roi_between", 0},
	};
	struct pnl_params p;

	pnl_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct class_case *c = &cases[i];
		struct pnl_channel_obs o = base();
		struct pnl_channel_result r;
		const char *err;

		c->setup(&o);
		err = pnl_channel(&p, &o, NOW, &r);
		CHECK(err == NULL && r.cls == c->want &&
			  !strcmp(r.class_reason, c->want_reason) &&
			  near(r.roi, c->want_roi, 1e-9),
		      "class %s: %s (%s) roi %g; want %s (%s) roi %g %s",
		      c->name, pnl_class_name(r.cls),
		      r.class_reason ? r.class_reason : "-", r.roi,
		      pnl_class_name(c->want), c->want_reason, c->want_roi,
		      err ? err : "");
	}
}

static void test_remote_open_cost(void)
{
	struct pnl_params p;
	struct pnl_channel_obs o = base();
	struct pnl_channel_result r;

	pnl_params_default(&p);
	o.opener = PNL_OPENER_REMOTE;
	o.fees_earned_msat = 2000 * SAT;
	account(&p, &o, NOW, &r);
	CHECK(r.open_cost_counted_msat == 0 && r.total_cost_msat == 0 &&
		  r.net_profit_msat == 2000 * SAT,
	      "a peer-opened channel's open cost is not ours: cost %lld net "
	      "%lld",
	      (long long)r.total_cost_msat, (long long)r.net_profit_msat);
	CHECK_EQ_INT(r.days_open, 100, "days open");
	CHECK_EQ_INT(r.days_inactive, 0, "routed an hour ago");
}

struct marginal_case {
	const char *name;
	int64_t contribution_30d_msat, cost_30d_msat;
	double want;
	bool want_reliable;
};

static void test_marginal(void)
{
	static const struct marginal_case cases[] = {
	    {.name = "no cost, profit", .contribution_30d_msat = 50 * SAT,
	     .want = 1.0},
	    {.name = "no cost, nothing", .want = 0.0},
	    /* (500 - 200) / 200 = 1.5; 200 sat >= 100: reliable. */
	    {.name = "earning", .contribution_30d_msat = 500 * SAT,
	     .cost_30d_msat = 200 * SAT, .want = 1.5, .want_reliable = true},
	    /* (1000 - 500) msat / max(1 sat, 500 msat) = 500 / 1000. */
	    {.name = "sub-sat cost", .contribution_30d_msat = 1000,
	     .cost_30d_msat = 500, .want = 0.5},
	    /* (100 - 400) / 400 = -0.75 */
	    {.name = "losing", .contribution_30d_msat = 100 * SAT,
	     .cost_30d_msat = 400 * SAT, .want = -0.75,
	     .want_reliable = true},
	};
	struct pnl_params p;

	pnl_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct marginal_case *c = &cases[i];
		struct pnl_channel_obs o = base();
		struct pnl_channel_result r;

		o.fees_earned_30d_msat = c->contribution_30d_msat;
		o.fees_earned_msat = c->contribution_30d_msat;
		o.rebalance_cost_30d_msat = c->cost_30d_msat;
		o.rebalance_cost_msat = c->cost_30d_msat;
		account(&p, &o, NOW, &r);
		CHECK(near(r.marginal_roi, c->want, 1e-12) &&
			  r.marginal_reliable == c->want_reliable &&
			  r.operationally_profitable == (c->want >= 0),
		      "marginal %s: %g reliable %d (want %g %d)", c->name,
		      r.marginal_roi, r.marginal_reliable, c->want,
		      c->want_reliable);
	}
}

struct bleeder_case {
	const char *name;
	int64_t rev30_sat, cost30_sat, rev7_sat, cost7_sat;
	uint32_t samples;
	double success_rate;
	enum pnl_bleeder prev, want;
	const char *want_reason;
};

static void test_bleeders(void)
{
	static const struct bleeder_case cases[] = {
	    {.name = "cheap", .rev30_sat = 0, .cost30_sat = 50,
	     .want = PNL_BLEEDER_NONE, .want_reason = "low_cost"},
	    /* cost 2000 > 2 * 100 and net -1900 < -1000. */
	    {.name = "cost dwarfs revenue", .rev30_sat = 100,
	     .cost30_sat = 2000, .want = PNL_BLEEDER_HARD,
	     .want_reason = "cost_exceeds_revenue"},
	    /* raw 3100 < 2 * 2000, but 50 % success: 6200 > 4000, net
	     * -1100 < -1000. */
	    {.name = "failed attempts count", .rev30_sat = 2000,
	     .cost30_sat = 3100, .rev7_sat = 100, .cost7_sat = 0,
	     .samples = 3, .success_rate = 0.5, .want = PNL_BLEEDER_HARD,
	     .want_reason = "cost_exceeds_revenue"},
	    /* Same without enough samples: net30 < 0, net7 >= 0: soft. */
	    {.name = "too few samples to scale", .rev30_sat = 2000,
	     .cost30_sat = 3100, .rev7_sat = 100, .cost7_sat = 0,
	     .samples = 2, .success_rate = 0.5, .want = PNL_BLEEDER_SOFT,
	     .want_reason = "recovering"},
	    /* Sticky: a previous hard bleeder at net -600 <= -500. */
	    {.name = "stays hard", .rev30_sat = 0, .cost30_sat = 600,
	     .rev7_sat = 0, .cost7_sat = 0, .prev = PNL_BLEEDER_HARD,
	     .want = PNL_BLEEDER_HARD, .want_reason = "still_hard"},
	    /* Same numbers, no history: net7 0 >= 0, net30 < 0: soft. */
	    {.name = "not sticky without history", .rev30_sat = 0,
	     .cost30_sat = 600, .want = PNL_BLEEDER_SOFT,
	     .want_reason = "recovering"},
	    {.name = "recent loss", .rev30_sat = 1000, .cost30_sat = 200,
	     .rev7_sat = 0, .cost7_sat = 150, .want = PNL_BLEEDER_SOFT,
	     .want_reason = "recent_loss"},
	    /* Both negative, |net30| 300 <= 1000. */
	    {.name = "small sustained loss", .rev30_sat = 100,
	     .cost30_sat = 400, .rev7_sat = 0, .cost7_sat = 100,
	     .want = PNL_BLEEDER_SOFT, .want_reason = "small_sustained_loss"},
	    /* cost 1200 > 2 x 100 and net -1100 < -1000: the first rule
	     * fires before the window comparison. */
	    {.name = "large loss", .rev30_sat = 100, .cost30_sat = 1200,
	     .rev7_sat = 0, .cost7_sat = 300, .want = PNL_BLEEDER_HARD,
	     .want_reason = "cost_exceeds_revenue"},
	    /* 1600 revenue, 2700 cost: 2700 < 3200 (not rule 1), both
	     * windows negative, |net30| 1100 > 1000: hard. */
	    {.name = "sustained loss", .rev30_sat = 1600, .cost30_sat = 2700,
	     .rev7_sat = 0, .cost7_sat = 300, .want = PNL_BLEEDER_HARD,
	     .want_reason = "sustained_loss"},
	    {.name = "healthy", .rev30_sat = 1000, .cost30_sat = 200,
	     .rev7_sat = 300, .cost7_sat = 50, .want = PNL_BLEEDER_NONE,
	     .want_reason = "healthy"},
	};
	struct pnl_params p;

	pnl_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bleeder_case *c = &cases[i];
		struct pnl_channel_obs o = base();
		struct pnl_channel_result r;

		o.fees_earned_msat = 10000 * SAT;
		o.fees_earned_30d_msat = c->rev30_sat * SAT;
		o.rebalance_cost_30d_msat = c->cost30_sat * SAT;
		o.contribution_7d_msat = c->rev7_sat * SAT;
		o.rebalance_cost_7d_msat = c->cost7_sat * SAT;
		o.rebalance_success_samples = c->samples;
		o.rebalance_success_rate = c->success_rate;
		o.prev_bleeder = c->prev;
		account(&p, &o, NOW, &r);
		CHECK(r.bleeder == c->want &&
			  !strcmp(r.bleeder_reason, c->want_reason),
		      "bleeder %s: %s (%s), want %s (%s)", c->name,
		      pnl_bleeder_name(r.bleeder), r.bleeder_reason,
		      pnl_bleeder_name(c->want), c->want_reason);
	}
}

struct adj_case {
	const char *name;
	enum pnl_class cls;
	double roi, want;
	bool want_floor;
};

/* Defect 9: H referenced a MARGINAL class that does not exist; the
 * exception was swallowed and the whole adjustment skipped. */
static void test_defect9_fee_adjustment(void)
{
	static const struct adj_case cases[] = {
	    {.name = "defect 9: break_even is handled", .cls = PNL_BREAK_EVEN,
	     .roi = 0.05, .want = 1.0},
	    {.name = "profitable above 20 %", .cls = PNL_PROFITABLE,
	     .roi = 0.3, .want = 1.10},
	    {.name = "profitable below 20 %", .cls = PNL_PROFITABLE,
	     .roi = 0.15, .want = 1.0},
	    {.name = "deep underwater", .cls = PNL_UNDERWATER, .roi = -0.3,
	     .want = 0.85},
	    {.name = "shallow underwater", .cls = PNL_UNDERWATER,
	     .roi = -0.15, .want = 1.0},
	    {.name = "zombie goes to the floor", .cls = PNL_ZOMBIE,
	     .roi = -0.5, .want = 1.0, .want_floor = true},
	    {.name = "stagnant", .cls = PNL_STAGNANT, .roi = -0.5,
	     .want = 1.0},
	};
	struct pnl_params p;

	pnl_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct adj_case *c = &cases[i];
		bool to_floor = true;
		double got = pnl_fee_adjustment(&p, c->cls, c->roi, &to_floor);
		CHECK(near(got, c->want, 1e-12) && to_floor == c->want_floor,
		      "%s: %s roi %g -> x%g floor %d", c->name,
		      pnl_class_name(c->cls), c->roi, got, to_floor);
	}
}

static void test_totals(void)
{
	struct pnl_lifetime_obs lo = {.revenue_msat = 10000001,
				      .open_cost_msat = 5000 * SAT,
				      .close_cost_msat = 3000 * SAT,
				      .rebalance_cost_msat = 1000 * SAT};
	struct pnl_lifetime_result lr;
	struct pnl_period_obs po = {.gross_revenue_msat = 100000 * SAT,
				    .rebalance_cost_msat = 20000 * SAT,
				    .closure_cost_msat = 10000 * SAT,
				    .capital_sat = 10000000,
				    .window_days = 30};
	struct pnl_period_result pr;

	/* cost 9000 sat; net 1,000,001 msat; roi 11.1111 %; revenue ceil
	 * 10001 sat; net toward zero 1000 sat. */
	CHECK(pnl_lifetime(&lo, &lr) == NULL &&
		  lr.total_cost_msat == 9000 * SAT &&
		  lr.net_profit_msat == 1000001 &&
		  near(lr.roi_pct, 100.0 * 1000001 / 9000000, 1e-9) &&
		  lr.revenue_sat == 10001 && lr.net_profit_sat == 1000 &&
		  lr.total_cost_sat == 9000,
	      "lifetime: net %lld roi %g revenue %lld sat",
	      (long long)lr.net_profit_msat, lr.roi_pct,
	      (long long)lr.revenue_sat);

	/* opex 30,000 sat, net 70,000 sat, margin 70 %; ROC 70k / 10 M *
	 * 365 / 30 * 100 = 8.5167 %. */
	CHECK(pnl_period(&po, &pr) == NULL && pr.opex_msat == 30000 * SAT &&
		  pr.net_profit_msat == 70000 * SAT &&
		  near(pr.operating_margin_pct, 70, 1e-9) &&
		  near(pr.annualized_roc_pct, 8.516666666666667, 1e-9),
	      "period: opex %lld net %lld margin %g roc %g",
	      (long long)pr.opex_msat, (long long)pr.net_profit_msat,
	      pr.operating_margin_pct, pr.annualized_roc_pct);
	po.gross_revenue_msat = 0;
	CHECK(pnl_period(&po, &pr) == NULL && pr.operating_margin_pct == 0,
	      "no revenue: margin 0, not a division by zero");

	/* 10,000 sat on 1 M over 30 days: 0.01 * 365 / 30 * 100. */
	CHECK(near(pnl_roc_pct(10000 * SAT, 1000000, 30), 12.166666666666666,
		   1e-9),
	      "ROC 12.17 %%");
	CHECK(pnl_roc_pct(5, 0, 30) == 0 && pnl_roc_pct(5, 100, 0) == 0,
	      "ROC without capital or days is 0");
}

/* Defect 31: the H archive read a key that did not exist and stored 0
 * revenue for every closed channel. */
static void test_defect31_closed_archive(void)
{
	struct pnl_channel_obs o = base();
	struct pnl_closed_result r;

	o.fees_earned_msat = 123456; /* 123.456 sat -> 124 */
	o.close_cost_msat = 3000 * SAT;
	o.rebalance_cost_msat = 1001;
	/* net = 123456 - (5,000,000 + 3,000,000 + 1001) = -7,877,545 msat
	 * -> -7877 sat toward zero. */
	CHECK(pnl_closed_channel(&o, NOW, &r) == NULL &&
		  r.total_revenue_sat == 124 && r.rebalance_cost_sat == 2 &&
		  r.open_cost_sat == 5000 && r.close_cost_sat == 3000 &&
		  r.net_pnl_sat == -7877 && r.days_open == 100,
	      "defect 31: archive revenue %lld sat (not 0), net %lld",
	      (long long)r.total_revenue_sat, (long long)r.net_pnl_sat);
	o.opener = PNL_OPENER_REMOTE;
	CHECK(pnl_closed_channel(&o, NOW, &r) == NULL && r.open_cost_sat == 0,
	      "remote-opened archive has no open cost");
}

struct chain_case {
	const char *name;
	bool found;
	int64_t fee_msat, fallback_msat, want;
};

/* Defect 32: a lookup that found nothing returned 0, a real-looking free
 * close, and the 3000-sat fallback never applied. */
static void test_defect32_chain_cost(void)
{
	static const struct chain_case cases[] = {
	    {.name = "defect 32: not found uses the fallback",
	     .found = false, .fee_msat = 0, .fallback_msat = 3000 * SAT,
	     .want = 3000 * SAT},
	    {.name = "found zero is zero", .found = true, .fee_msat = 0,
	     .fallback_msat = 3000 * SAT, .want = 0},
	    {.name = "found", .found = true, .fee_msat = 1234567,
	     .fallback_msat = 3000 * SAT, .want = 1234567},
	    {.name = "capped at 50,000 sat", .found = true,
	     .fee_msat = 60000 * SAT, .want = 50000 * SAT},
	    {.name = "negative is 0", .found = true, .fee_msat = -5,
	     .want = 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct chain_case *c = &cases[i];
		int64_t got = pnl_chain_cost_msat(c->found, c->fee_msat,
						  c->fallback_msat);
		CHECK_EQ_INT(got, c->want, "%s (found %d fee %lld)", c->name,
			     c->found, (long long)c->fee_msat);
	}
}

struct round_case {
	int64_t msat, ceil, floor, trunc;
};

static void test_rounding(void)
{
	static const struct round_case cases[] = {
	    {.msat = 0, .ceil = 0, .floor = 0, .trunc = 0},
	    {.msat = 1, .ceil = 1, .floor = 0, .trunc = 0},
	    {.msat = 1000, .ceil = 1, .floor = 1, .trunc = 1},
	    {.msat = 1001, .ceil = 2, .floor = 1, .trunc = 1},
	    {.msat = 1999, .ceil = 2, .floor = 1, .trunc = 1},
	    {.msat = -1, .ceil = 0, .floor = -1, .trunc = 0},
	    {.msat = -1500, .ceil = -1, .floor = -2, .trunc = -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct round_case *c = &cases[i];
		CHECK(pnl_msat_to_sat_ceil(c->msat) == c->ceil &&
			  pnl_msat_to_sat_floor(c->msat) == c->floor &&
			  pnl_msat_to_sat_trunc(c->msat) == c->trunc,
		      "round %lld msat: ceil %lld floor %lld trunc %lld",
		      (long long)c->msat,
		      (long long)pnl_msat_to_sat_ceil(c->msat),
		      (long long)pnl_msat_to_sat_floor(c->msat),
		      (long long)pnl_msat_to_sat_trunc(c->msat));
	}
}

static void test_errors(void)
{
	struct pnl_params p;
	struct pnl_channel_obs o = base();
	struct pnl_channel_result r;
	struct pnl_lifetime_obs lo = {.revenue_msat = INT64_MAX,
				      .open_cost_msat = INT64_MAX,
				      .rebalance_cost_msat = 1};
	struct pnl_lifetime_result lr;

	pnl_params_default(&p);
	o.open_cost_msat = INT64_MAX;
	o.rebalance_cost_msat = 1;
	CHECK(pnl_channel(&p, &o, NOW, &r) != NULL,
	      "costs that overflow int64 are an error");
	o = base();
	o.fees_earned_msat = -1;
	CHECK(pnl_channel(&p, &o, NOW, &r) != NULL,
	      "a negative amount is an error");
	CHECK(pnl_lifetime(&lo, &lr) != NULL, "lifetime overflow is an error");
	/* INT64_MAX revenue with no cost is fine. */
	o = base();
	o.open_cost_msat = 0;
	o.fees_earned_msat = INT64_MAX;
	CHECK(pnl_channel(&p, &o, NOW, &r) == NULL &&
		  r.net_profit_msat == INT64_MAX,
	      "the largest revenue does not overflow");
}

int main(void)
{
	test_classes();
	test_remote_open_cost();
	test_marginal();
	test_bleeders();
	test_defect9_fee_adjustment();
	test_totals();
	test_defect31_closed_archive();
	test_defect32_chain_cost();
	test_rounding();
	test_errors();
	return check_done();
}
