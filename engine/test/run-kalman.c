/* Unit tests for engine/kalman.c: the measurement and volatility helpers
 * (tables with hand-computed values), one predict and one update computed
 * by hand, the step's skip / first-update / cap / reset rules, convergence
 * on a constant flow, regime-change detection, and a fixed-seed property
 * loop keeping P symmetric positive-definite and finite. */
#include "common/rng.h"
#include "engine/kalman.h"
#include "tests/check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000ULL

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void kstep(const struct kalman_params *p, struct kalman_state *st,
		  const struct kalman_obs *obs, uint64_t now,
		  struct kalman_result *out)
{
	const char *err = kalman_step(p, st, obs, now, out);

	if (err)
		CHECK(false, "unexpected kalman_step error: %s", err);
}

struct measure_case {
	const char *name;
	int64_t net_msat;
	uint64_t capacity_sat;
	double want;
};

static void test_measurement(void)
{
	static const struct measure_case cases[] = {
	    /* 500,000 sat out of a 1 M sat channel in 24 h: half of it. */
	    {.name = "half out", .net_msat = 500000000,
	     .capacity_sat = 1000000, .want = 0.5},
	    /* -250,000 sat / 1 M = -0.25. */
	    {.name = "quarter in", .net_msat = -250000000,
	     .capacity_sat = 1000000, .want = -0.25},
	    /* 2 M sat out of 1 M clamps to 1. */
	    {.name = "clamped", .net_msat = 2000000000LL,
	     .capacity_sat = 1000000, .want = 1.0},
	    {.name = "clamped negative", .net_msat = -3000000000LL,
	     .capacity_sat = 1000000, .want = -1.0},
	    {.name = "zero capacity", .net_msat = 5000,
	     .capacity_sat = 0, .want = 0},
	    {.name = "no flow", .net_msat = 0, .capacity_sat = 1000000,
	     .want = 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct measure_case *c = &cases[i];
		double got = kalman_measurement(c->net_msat, c->capacity_sat);
		CHECK(near(got, c->want, 1e-12),
		      "measurement %s: net %lld msat cap %llu sat -> %g (want "
		      "%g)",
		      c->name, (long long)c->net_msat,
		      (unsigned long long)c->capacity_sat, got, c->want);
	}
}

struct vol_case {
	const char *name;
	int64_t days[8];
	size_t n;
	double want;
};

static void test_volatility(void)
{
	static const struct vol_case cases[] = {
	    {.name = "too few days", .days = {5000, 9000}, .n = 2,
	     .want = 1.0},
	    /* Steady: no day-to-day change, cv 0 -> 0.5. */
	    {.name = "steady", .days = {1000, 1000, 1000}, .n = 3,
	     .want = 0.5},
	    /* mean|net| 100 < 1000 -> cv 0.5 -> 0.5 + 1.5. */
	    {.name = "tiny flows", .days = {100, -100, 100}, .n = 3,
	     .want = 2.0},
	    /* mean|net| 3000, mean|diff| 2000, cv 0.667 -> 0.5 + min(1.5,
	     * 2.0) = 2.0. */
	    {.name = "swinging", .days = {2000, 4000, 2000, 4000}, .n = 4,
	     .want = 2.0},
	    /* mean|net| 11000, mean|diff| 1000, cv 0.0909 -> 0.7727. */
	    {.name = "trending", .days = {10000, 11000, 12000}, .n = 3,
	     .want = 0.5 + 3.0 * 1000.0 / 11000.0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vol_case *c = &cases[i];
		double got = kalman_volatility(c->days, c->n);
		CHECK(near(got, c->want, 1e-9),
		      "volatility %s: n %zu -> %g (want %g)", c->name, c->n,
		      got, c->want);
	}
	CHECK(kalman_volatility(NULL, 5) == 1.0, "volatility of NULL is 1");
}

static void test_predict_by_hand(void)
{
	struct kalman_params p;
	struct kalman_state st;
	double qr, qv;

	kalman_params_default(&p);
	kalman_init(&p, &st);
	/* p11 starts at min(0.1, (0.5/24)^2) = 4.3403e-4. */
	CHECK(near(st.p11, 0.00043402777777777775, 1e-15),
	      "initial p11 is the velocity bound squared: %g", st.p11);
	st.ratio = 0.1;
	st.velocity_per_hour = 0.001;
	kalman_predict(&p, &st, 10, 1.0, &qr, &qv);
	/* r = 0.1 + 0.001 * 10 = 0.11.
	 * qr = 0.01/24 * 1 * 2 = 8.3333e-4; qv = 0.005/24 = 2.0833e-4.
	 * p00 = 0.1 + 0 + 100 * 4.3403e-4 + 10 qr + 1000 qv / 3
	 *     = 0.1 + 0.0434028 + 0.0083333 + 0.0694444 = 0.2211806.
	 * p11 = 4.3403e-4 + 10 qv = 2.517e-3 -> capped at 4.3403e-4.
	 * p01 = 10 * 4.3403e-4 + qv * 100 / 2 = 0.0147569, then held inside
	 * 0.99 sqrt(p00 p11) = 0.0096999. */
	CHECK(near(st.ratio, 0.11, 1e-12), "predict moves r by v dt: %g",
	      st.ratio);
	CHECK(near(qr, 0.0008333333333333334, 1e-15), "qr %g", qr);
	CHECK(near(qv, 0.00020833333333333335, 1e-15), "qv %g", qv);
	CHECK(near(st.p00, 0.22118055555555555, 1e-12), "p00 %g", st.p00);
	CHECK(near(st.p11, 0.00043402777777777775, 1e-15), "p11 capped %g",
	      st.p11);
	CHECK(near(st.p01, 0.009699903853421692, 1e-12),
	      "p01 inside Cauchy-Schwarz %g", st.p01);

	/* dt <= 0 is a no-op. */
	struct kalman_state before = st;
	kalman_predict(&p, &st, 0, 1.0, NULL, NULL);
	CHECK(memcmp(&before, &st, sizeof(st)) == 0, "predict(0) is a no-op");
}

static void test_update_by_hand(void)
{
	struct kalman_params p;
	struct kalman_state st;
	struct kalman_result res = {0};

	kalman_params_default(&p);
	kalman_init(&p, &st);
	kalman_update(&p, &st, 0.2, 1.0, &res);
	/* R = 0.05 / max(0.1, 1 * 0.8) = 0.0625; y = 0.2; S = 0.1625;
	 * K0 = 0.1 / 0.1625 = 0.6153846; K1 = 0 (p01 = 0).
	 * r = 0.6153846 * 0.2 = 0.1230769.
	 * p00 = (1 - K0)^2 0.1 + R K0^2 = 0.1 R / S = 0.0384615.
	 * iv = max(0.001, 0.9 * 0.001 + 0.1 * 0.04) = 0.0049. */
	CHECK(near(res.measurement_noise, 0.0625, 1e-15), "R %g",
	      res.measurement_noise);
	CHECK(near(res.gain_ratio, 0.6153846153846154, 1e-12), "K0 %g",
	      res.gain_ratio);
	CHECK(near(res.gain_velocity, 0, 1e-15), "K1 %g", res.gain_velocity);
	CHECK(near(st.ratio, 0.12307692307692308, 1e-12), "r %g", st.ratio);
	CHECK(near(st.p00, 0.038461538461538464, 1e-12), "p00 %g", st.p00);
	CHECK(near(st.innovation_variance, 0.0049, 1e-12), "iv %g",
	      st.innovation_variance);
	CHECK_EQ_INT(st.observation_count, 1, "one observation");

	/* Low confidence: 0.05 * 0.8 = 0.04 -> max(0.1) -> R = 0.5. */
	kalman_init(&p, &st);
	kalman_update(&p, &st, 0.2, 0.05, &res);
	CHECK(near(res.measurement_noise, 0.5, 1e-15),
	      "low confidence R clamps to 0.5: %g", res.measurement_noise);
}

struct step_case {
	const char *name;
	uint64_t last_update_sec; /* 0: fresh filter */
	uint64_t now;
	bool has_measurement;
	double z;
	bool poison; /* put NaN in the state first */
	const char *want_reason;
	double want_dt;
	bool want_reset;
	bool want_error;
};

static void test_step_rules(void)
{
	static const struct step_case cases[] = {
	    {.name = "fresh filter predicts 24 h", .now = NOW,
	     .has_measurement = true, .z = 0.1, .want_reason = "updated",
	     .want_dt = 24},
	    {.name = "200 s after the last update is too soon",
	     .last_update_sec = NOW - 200, .now = NOW,
	     .has_measurement = true, .z = 0.1, .want_reason = "too_soon"},
	    {.name = "300 s is enough", .last_update_sec = NOW - 300,
	     .now = NOW, .has_measurement = true, .z = 0.1,
	     .want_reason = "updated", .want_dt = 300.0 / 3600},
	    {.name = "a 30-day gap is capped at 168 h",
	     .last_update_sec = NOW - 30 * 86400, .now = NOW,
	     .has_measurement = true, .z = 0.1, .want_reason = "updated",
	     .want_dt = 168},
	    {.name = "no measurement predicts only",
	     .last_update_sec = NOW - 3600, .now = NOW,
	     .want_reason = "predict_only", .want_dt = 1},
	    {.name = "a NaN state is reset", .last_update_sec = NOW - 3600,
	     .now = NOW, .has_measurement = true, .z = 0.1, .poison = true,
	     .want_reason = "updated", .want_dt = 24, .want_reset = true},
	    {.name = "NaN measurement is an error",
	     .last_update_sec = NOW - 3600, .now = NOW,
	     .has_measurement = true, .z = NAN, .want_error = true},
	    {.name = "clock went back: update without predicting",
	     .last_update_sec = NOW + 3600, .now = NOW,
	     .has_measurement = true, .z = 0.1, .want_reason = "updated",
	     .want_dt = 0},
	};
	struct kalman_params p;

	kalman_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct step_case *c = &cases[i];
		struct kalman_state st, before;
		struct kalman_result res;
		struct kalman_obs obs = {.has_measurement = c->has_measurement,
					 .z = c->z,
					 .confidence = 1,
					 .volatility = 1};
		const char *err;

		kalman_init(&p, &st);
		st.last_update_sec = c->last_update_sec;
		if (c->poison)
			st.p00 = NAN;
		before = st;
		err = kalman_step(&p, &st, &obs, c->now, &res);
		if (c->want_error) {
			CHECK(err != NULL &&
				  memcmp(&st, &before, sizeof(st)) == 0,
			      "step %s: error and state untouched", c->name);
			continue;
		}
		CHECK(err == NULL, "step %s: no error (%s)", c->name,
		      err ? err : "");
		CHECK_EQ_STR(res.reason, c->want_reason, "step %s: reason",
			     c->name);
		CHECK(near(res.dt_hours, c->want_dt, 1e-9),
		      "step %s: dt %g h (want %g)", c->name, res.dt_hours,
		      c->want_dt);
		CHECK(res.reset == c->want_reset, "step %s: reset %d",
		      c->name, res.reset);
		if (!strcmp(c->want_reason, "too_soon"))
			CHECK(memcmp(&st, &before, sizeof(st)) == 0,
			      "step %s: state untouched", c->name);
	}
}

static void test_convergence_and_regime(void)
{
	struct kalman_params p;
	struct kalman_state st;
	struct kalman_result res = {0};
	struct kalman_obs obs = {.has_measurement = true, .z = 0.3,
				 .confidence = 1, .volatility = 1};
	uint64_t t = NOW;
	int regime_before = 0;

	kalman_params_default(&p);
	kalman_init(&p, &st);
	/* Hourly flow cycles seeing the same 24 h ratio of 0.3. */
	for (int i = 0; i < 48; i++) {
		kstep(&p, &st, &obs, t, &res);
		if (i >= 10)
			regime_before += res.regime_change;
		t += 3600;
	}
	CHECK(res.converged, "converged after 48 hourly updates: unc %g n %u",
	      res.uncertainty, st.observation_count);
	CHECK(near(st.ratio, 0.3, 0.02), "ratio tracks 0.3: %g", st.ratio);
	CHECK_EQ_INT(regime_before, 0, "no regime change on a steady flow");

	/* The flow turns: a 24 h ratio of -0.6 is a regime change. */
	obs.z = -0.6;
	kstep(&p, &st, &obs, t, &res);
	CHECK(res.regime_change,
	      "jump 0.3 -> -0.6 flags a regime change (innovation %g, iv %g)",
	      res.innovation, st.innovation_variance);
	CHECK(kalman_regime_change(&p, &st), "kalman_regime_change agrees");

	/* Not converged with too few observations even if P is small. */
	kalman_init(&p, &st);
	st.p00 = 0.001;
	st.observation_count = 4;
	CHECK(!kalman_converged(&p, &st), "4 observations: not converged");
	st.observation_count = 5;
	CHECK(kalman_converged(&p, &st), "5 observations, unc 0.03: converged");
}

static void test_psd_property(void)
{
	struct kalman_params p;
	struct kalman_state st;
	struct rng r;
	uint64_t t = NOW;
	int bad = 0;

	kalman_params_default(&p);
	kalman_init(&p, &st);
	rng_seed(&r, 4242);
	for (int i = 0; i < 20000; i++) {
		struct kalman_result res;
		struct kalman_obs obs = {
		    .has_measurement = rng_below(&r, 5) != 0,
		    .z = rng_unit(&r) * 2.4 - 1.2,
		    .confidence = rng_unit(&r),
		    .volatility = 0.5 + 1.5 * rng_unit(&r),
		};
		t += 60 + rng_below(&r, 7 * 86400);
		kstep(&p, &st, &obs, t, &res);
		if (!(st.p00 > 0 && st.p11 > 0 &&
		      st.p01 * st.p01 <= st.p00 * st.p11 &&
		      isfinite(st.ratio) && fabs(st.ratio) <= 1 &&
		      fabs(st.velocity_per_hour) <= p.velocity_max_per_hour)) {
			if (bad++ < 5)
				printf("# step %d: r %g v %g p00 %g p01 %g p11 "
				       "%g\n",
				       i, st.ratio, st.velocity_per_hour,
				       st.p00, st.p01, st.p11);
		}
	}
	CHECK_EQ_INT(bad, 0, "20000 random steps keep P positive-definite and "
			     "the state bounded");
}

int main(void)
{
	test_measurement();
	test_volatility();
	test_predict_by_hand();
	test_update_by_hand();
	test_step_rules();
	test_convergence_and_regime();
	test_psd_property();
	return check_done();
}
