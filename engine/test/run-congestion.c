/* Unit tests for engine/congestion.c: value-weighted utilisation
 * max(slot_util, value_util) on a table of channels, the asymmetric EMA,
 * the slot-scarcity multiplier (including spec §7 defect 11: the
 * threshold is the configured one) and the rebalance guard. */
#include "engine/congestion.h"
#include "tests/check.h"
#include <math.h>

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

#define BTC_MSAT 100000000000ULL
#define SLOT_MSAT 100000000ULL /* weight 1 */

static uint64_t small[10], large[48], slotw[300];

struct measure_case {
	const char *name;
	struct congestion_obs obs;
	double want_slot, want_value, want_util;
	bool want_congested;
	bool want_error;
};

static void test_measure(void)
{
	const struct measure_case cases[] = {
	    {.name = "idle", .obs = {0}, .want_util = 0},
	    /* 400 / 483 = 0.8282 > 0.8 */
	    {.name = "slots nearly full", .obs = {.n_htlcs = 400},
	     .want_slot = 400.0 / 483, .want_util = 400.0 / 483,
	     .want_congested = true},
	    /* 386 / 483 = 0.7992: just below. */
	    {.name = "slots just below", .obs = {.n_htlcs = 386},
	     .want_slot = 386.0 / 483, .want_util = 386.0 / 483},
	    /* 10 tiny HTLCs: weights clamp up to 0.01 each = 0.1 / 483. */
	    {.name = "ten tiny HTLCs",
	     .obs = {.n_htlcs = 10, .htlc_amounts_msat = small,
		     .n_amounts = 10},
	     .want_slot = 10.0 / 483, .want_value = 0.1 / 483,
	     .want_util = 10.0 / 483},
	    /* 48 HTLCs of 10 BTC: weight clamps to 10 each: 480 / 483 =
	     * 0.9938 although only 48 slots (0.099) are used. */
	    {.name = "few huge HTLCs (value-weighted)",
	     .obs = {.n_htlcs = 48, .htlc_amounts_msat = large,
		     .n_amounts = 48},
	     .want_slot = 48.0 / 483, .want_value = 480.0 / 483,
	     .want_util = 480.0 / 483, .want_congested = true},
	    /* 900k of a 1 M msat in-flight cap: 0.9. */
	    {.name = "value in flight near the cap",
	     .obs = {.n_htlcs = 3, .in_flight_msat = 900000000,
		     .max_in_flight_msat = 1000000000},
	     .want_slot = 3.0 / 483, .want_value = 0.9, .want_util = 0.9,
	     .want_congested = true},
	    /* A channel accepting 30: 25 / 30 = 0.833. */
	    {.name = "small max_accepted_htlcs",
	     .obs = {.n_htlcs = 25, .max_accepted_htlcs = 30},
	     .want_slot = 25.0 / 30, .want_util = 25.0 / 30,
	     .want_congested = true},
	    {.name = "amounts missing", .obs = {.n_htlcs = 2, .n_amounts = 2},
	     .want_error = true},
	};
	struct congestion_params p;

	congestion_params_default(&p);
	for (size_t i = 0; i < 10; i++)
		small[i] = 100000; /* 100 sat */
	for (size_t i = 0; i < 48; i++)
		large[i] = 10 * BTC_MSAT;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct measure_case *c = &cases[i];
		struct congestion_result r;
		const char *err = congestion_measure(&p, &c->obs, &r);
		if (c->want_error) {
			CHECK(err != NULL, "measure %s: error", c->name);
			continue;
		}
		CHECK(err == NULL && near(r.slot_util, c->want_slot, 1e-12) &&
			  near(r.value_util, c->want_value, 1e-12) &&
			  near(r.util, c->want_util, 1e-12) &&
			  r.congested == c->want_congested,
		      "measure %s: n %u -> slot %g value %g util %g congested "
		      "%d (want %g %g %g %d)",
		      c->name, c->obs.n_htlcs, r.slot_util, r.value_util,
		      r.util, r.congested, c->want_slot, c->want_value,
		      c->want_util, c->want_congested);
	}
}

struct ema_case {
	double prev, util, want;
};

static void test_ema(void)
{
	static const struct ema_case cases[] = {
	    {.prev = 0, .util = 1, .want = 0.4},   /* up: 0 + 0.4 * 1 */
	    {.prev = 1, .util = 0, .want = 0.9},   /* down: 1 - 0.1 * 1 */
	    {.prev = 0.5, .util = 0.5, .want = 0.5},
	    {.prev = 0.2, .util = 2, .want = 0.52}, /* util clamps to 1 */
	    {.prev = 0.3, .util = NAN, .want = 0.3},
	};
	struct congestion_params p;

	congestion_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ema_case *c = &cases[i];
		double got = congestion_ema_update(&p, c->prev, c->util);
		CHECK(near(got, c->want, 1e-12), "ema %g + %g -> %g (want %g)",
		      c->prev, c->util, got, c->want);
	}
}

struct scarcity_case {
	const char *name;
	double threshold, ema, want;
};

static void test_scarcity(void)
{
	static const struct scarcity_case cases[] = {
	    {.name = "at threshold", .threshold = 0.35, .ema = 0.35,
	     .want = 1},
	    {.name = "full", .threshold = 0.35, .ema = 1.0, .want = 3},
	    /* ((0.675 - 0.35) / 0.65)^2 * 2 = 0.25 * 2 -> 1.5 */
	    {.name = "halfway", .threshold = 0.35, .ema = 0.675, .want = 1.5},
	    /* Defect 11: the reference hard-coded 0.35 and would give
	     * 1 + (0.10 / 0.65)^2 * 2 = 1.047 here. */
	    {.name = "defect 11: configured threshold 0.5 honoured",
	     .threshold = 0.5, .ema = 0.45, .want = 1},
	    /* ((0.75 - 0.5) / 0.5)^2 * 2 = 0.5 -> 1.5 */
	    {.name = "defect 11: scale follows the threshold",
	     .threshold = 0.5, .ema = 0.75, .want = 1.5},
	};
	struct congestion_params p;

	congestion_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scarcity_case *c = &cases[i];
		double got;
		p.scarcity_threshold = c->threshold;
		got = congestion_scarcity_multiplier(&p, c->ema);
		CHECK(near(got, c->want, 1e-12),
		      "scarcity %s: thr %g ema %g -> %g (want %g)", c->name,
		      c->threshold, c->ema, got, c->want);
	}
}

static void test_rebalance_guard(void)
{
	struct congestion_params p;
	struct congestion_obs obs = {.htlc_amounts_msat = slotw};
	double after;

	congestion_params_default(&p);
	for (size_t i = 0; i < 300; i++)
		slotw[i] = SLOT_MSAT;
	/* 288 + 1 = 289 / 483 = 0.598: allowed. */
	obs.n_htlcs = obs.n_amounts = 288;
	CHECK(!congestion_rebalance_blocked(&p, &obs, SLOT_MSAT, &after) &&
		  near(after, 289.0 / 483, 1e-12),
	      "288 slots + 1: %g <= 0.6 allowed", after);
	/* 290 + 1 = 291 / 483 = 0.6025: blocked. */
	obs.n_htlcs = obs.n_amounts = 290;
	CHECK(congestion_rebalance_blocked(&p, &obs, SLOT_MSAT, &after) &&
		  near(after, 291.0 / 483, 1e-12),
	      "290 slots + 1: %g > 0.6 blocked", after);
	/* Bad input fails open. */
	obs.htlc_amounts_msat = NULL;
	CHECK(!congestion_rebalance_blocked(&p, &obs, SLOT_MSAT, NULL),
	      "missing amounts fail open");
}

int main(void)
{
	test_measure();
	test_ema();
	test_scarcity();
	test_rebalance_guard();
	return check_done();
}
