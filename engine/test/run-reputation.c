/* Unit tests for engine/reputation.c: Laplace-smoothed scores, fractional
 * time-based decay (spec §7 defects 1 and 2), pruning, and peer uptime
 * from connection history (defect 33), as tables with hand-computed
 * values. */
#include "engine/reputation.h"
#include "tests/check.h"
#include <math.h>
#include <string.h>

#define NOW 1700000000ULL
#define HOUR 3600ULL
#define DAY 86400ULL

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

struct score_case {
	const char *name;
	bool no_row;
	double successes, failures;
	uint64_t age_sec; /* since last_update */
	double want;
};

static void test_scores(void)
{
	static const struct score_case cases[] = {
	    {.name = "no row", .no_row = true, .want = 0.5},
	    {.name = "no evidence", .want = 0.5},
	    /* (8 + 1) / (8 + 2 + 2) = 0.75 */
	    {.name = "8 ok 2 failed", .successes = 8, .failures = 2,
	     .want = 0.75},
	    /* (0 + 1) / (0 + 3 + 2) = 0.2 */
	    {.name = "3 failed", .failures = 3, .want = 0.2},
	    /* 10 successes a day ago: 10 * 0.98^24 = 6.15776;
	     * (7.15776) / (8.15776) = 0.877417. */
	    {.name = "10 ok, a day old", .successes = 10, .age_sec = DAY,
	     .want = (10 * pow(0.98, 24) + 1) / (10 * pow(0.98, 24) + 2)},
	};
	struct reputation_params p;

	reputation_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct score_case *c = &cases[i];
		struct reputation_state st = {.successes = c->successes,
					      .failures = c->failures,
					      .last_update_sec =
						  NOW - c->age_sec};
		double got = reputation_score(&p, c->no_row ? NULL : &st, NOW);
		CHECK(near(got, c->want, 1e-9),
		      "score %s: s %g f %g age %llu s -> %g (want %g)", c->name,
		      c->successes, c->failures,
		      (unsigned long long)c->age_sec, got, c->want);
	}
}

/* Defect 1: the reference decays with CAST(count * decay AS INTEGER), so a
 * single success becomes 0 at the first decay and a peer under 50 events
 * loses at least one per cycle. Ours keeps fractional evidence. */
static void test_defect1_fractional_decay(void)
{
	struct reputation_params p;
	struct reputation_state st;

	reputation_params_default(&p);
	reputation_init(&st, NOW);
	reputation_record(&p, &st, true, NOW);
	reputation_decay_to(&p, &st, NOW + HOUR);
	/* 1 * 0.98 = 0.98, not int(0.98) = 0. */
	CHECK(near(st.successes, 0.98, 1e-12),
	      "defect 1: one success keeps 0.98 after an hour, got %g",
	      st.successes);
	CHECK(reputation_score(&p, &st, NOW + HOUR) > 0.66,
	      "defect 1: the score still reflects it: %g",
	      reputation_score(&p, &st, NOW + HOUR));

	/* A 30-event peer after 10 hourly decays: 30 * 0.98^10 = 24.51,
	 * where integer truncation would leave 30 -> 29 -> 28 ... -> 20. */
	st = (struct reputation_state){.successes = 30,
				       .last_update_sec = NOW};
	for (int h = 1; h <= 10; h++)
		reputation_decay_to(&p, &st, NOW + h * HOUR);
	CHECK(near(st.successes, 30 * pow(0.98, 10), 1e-9),
	      "defect 1: 30 events decay to %g (want %g)", st.successes,
	      30 * pow(0.98, 10));
}

/* Defect 2: decay per cycle made the half-life depend on how often the
 * flow loop (or an extra `revenue-analyze`) ran. Ours depends on time. */
static void test_defect2_time_based_decay(void)
{
	struct reputation_params p;
	struct reputation_state once, often;

	reputation_params_default(&p);
	once = (struct reputation_state){.successes = 40, .failures = 10,
					 .last_update_sec = NOW};
	often = once;
	reputation_decay_to(&p, &once, NOW + DAY);
	/* 96 cycles of 15 minutes, plus extra decays at the same instant
	 * (an extra analysis run) that must not age the counts again. */
	for (int i = 1; i <= 96; i++) {
		reputation_decay_to(&p, &often, NOW + i * 900);
		reputation_decay_to(&p, &often, NOW + i * 900);
	}
	CHECK(near(once.successes, often.successes, 1e-9) &&
		  near(once.failures, often.failures, 1e-9),
	      "defect 2: one daily decay %g/%g == 192 quarter-hour calls "
	      "%g/%g",
	      once.successes, once.failures, often.successes, often.failures);
	CHECK(near(once.successes, 40 * pow(0.98, 24), 1e-9),
	      "defect 2: 0.98 per hour, so 40 -> %g after a day",
	      once.successes);

	/* Reading never decays. */
	struct reputation_state before = once;
	(void)reputation_score(&p, &once, NOW + 2 * DAY);
	(void)reputation_score(&p, &once, NOW + 2 * DAY);
	CHECK(memcmp(&before, &once, sizeof(once)) == 0,
	      "defect 2: reading a score does not change the counts");

	/* A clock step backwards never inflates counts. */
	reputation_decay_to(&p, &once, NOW);
	CHECK(memcmp(&before, &once, sizeof(once)) == 0,
	      "a decay to an earlier time is a no-op");
}

static void test_prune(void)
{
	struct reputation_params p;
	struct reputation_state st = {.successes = 1, .failures = 0,
				      .last_update_sec = NOW};

	reputation_params_default(&p);
	CHECK(!reputation_prunable(&p, &st, NOW), "one fresh event is kept");
	/* 0.98^h < 0.01 needs h > 228 hours. */
	CHECK(!reputation_prunable(&p, &st, NOW + 220 * HOUR),
	      "still evidence after 220 h (%g)", pow(0.98, 220));
	CHECK(reputation_prunable(&p, &st, NOW + 230 * HOUR),
	      "forgotten after 230 h (%g)", pow(0.98, 230));
}

struct uptime_case {
	const char *name;
	struct reputation_conn_event ev[8];
	size_t n;
	bool connected_now;
	uint64_t window_sec; /* window = [NOW - window_sec, NOW] */
	double want_pct;
	unsigned want_disconnects;
	const char *want_basis;
	bool want_error;
};

#define EV(t, when) {.type = REPUTATION_##t, .time_sec = (when)}

static void test_uptime(void)
{
	static const struct uptime_case cases[] = {
	    {.name = "no history, connected", .connected_now = true,
	     .window_sec = DAY, .want_pct = 100, .want_basis = "no_history"},
	    /* Defect 33: the reference said 100 with no history at all. */
	    {.name = "defect 33: no history, not connected",
	     .connected_now = false, .window_sec = DAY, .want_pct = 0,
	     .want_basis = "no_history"},
	    /* Defect 33: offline for 10 days; the caller kept the last
	     * event when it pruned, so the peer reads as down, not 100 %. */
	    {.name = "defect 33: last event a 10-day-old disconnect",
	     .ev = {EV(DISCONNECTED, NOW - 10 * DAY)}, .n = 1,
	     .window_sec = DAY, .want_pct = 0, .want_basis = "events"},
	    /* Up at the start, down at the middle: 12 h of 24 = 50 %. */
	    {.name = "down half the day",
	     .ev = {EV(CONNECTED, NOW - 3 * DAY),
		    EV(DISCONNECTED, NOW - 12 * HOUR)},
	     .n = 2, .window_sec = DAY, .want_pct = 50,
	     .want_disconnects = 1, .want_basis = "events"},
	    /* Flapping: down 1 h twice: 22 of 24 h = 91.667 %. */
	    {.name = "two one-hour flaps",
	     .ev = {EV(SNAPSHOT, NOW - 2 * DAY),
		    EV(DISCONNECTED, NOW - 23 * HOUR),
		    EV(CONNECTED, NOW - 22 * HOUR),
		    EV(DISCONNECTED, NOW - 21 * HOUR),
		    EV(CONNECTED, NOW - 20 * HOUR)},
	     .n = 5, .window_sec = DAY, .want_pct = 100.0 * 22 / 24,
	     .want_disconnects = 2, .want_basis = "events"},
	    /* No event before the window: the span starts at the first
	     * event (12 h ago), up ever since: 100 %. */
	    {.name = "history starts inside the window",
	     .ev = {EV(CONNECTED, NOW - 12 * HOUR)}, .n = 1,
	     .window_sec = DAY, .want_pct = 100, .want_basis = "events"},
	    /* First event a disconnect 6 h ago, back 3 h ago: of the 6 h
	     * span, 3 h up = 50 %. */
	    {.name = "history starts with a disconnect",
	     .ev = {EV(DISCONNECTED, NOW - 6 * HOUR),
		    EV(CONNECTED, NOW - 3 * HOUR)},
	     .n = 2, .window_sec = DAY, .want_pct = 50,
	     .want_disconnects = 1, .want_basis = "events"},
	    /* A 30 s span is too short: report the current state. */
	    {.name = "short span, down", .ev = {EV(DISCONNECTED, NOW - 30)},
	     .n = 1, .window_sec = DAY, .want_pct = 0,
	     .want_disconnects = 1, .want_basis = "short_span"},
	    {.name = "unsorted events",
	     .ev = {EV(CONNECTED, NOW - HOUR), EV(DISCONNECTED, NOW - DAY)},
	     .n = 2, .window_sec = DAY, .want_error = true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct uptime_case *c = &cases[i];
		struct reputation_uptime out;
		const char *err =
		    reputation_uptime(c->ev, c->n, c->connected_now,
				      NOW - c->window_sec, NOW, &out);
		if (c->want_error) {
			CHECK(err != NULL, "uptime %s: error", c->name);
			continue;
		}
		CHECK(err == NULL && near(out.uptime_pct, c->want_pct, 1e-9),
		      "uptime %s: %g %% (want %g) %s", c->name, out.uptime_pct,
		      c->want_pct, err ? err : "");
		CHECK_EQ_INT(out.disconnects, c->want_disconnects,
			     "uptime %s: disconnects", c->name);
		CHECK_EQ_STR(out.basis, c->want_basis, "uptime %s: basis",
			     c->name);
	}
	struct reputation_uptime out;
	CHECK(reputation_uptime(NULL, 0, true, NOW + 1, NOW, &out) != NULL,
	      "a window starting after now is an error");
}

struct flap_case {
	double pct, want_factor;
	bool want_stable;
};

static void test_flap(void)
{
	static const struct flap_case cases[] = {
	    {.pct = 100, .want_factor = 1, .want_stable = true},
	    {.pct = 91.5, .want_factor = 0.915, .want_stable = true},
	    {.pct = 89.9, .want_factor = 0.899, .want_stable = false},
	    {.pct = 0, .want_factor = 0, .want_stable = false},
	    {.pct = -5, .want_factor = 0, .want_stable = false},
	    {.pct = 120, .want_factor = 1, .want_stable = true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct flap_case *c = &cases[i];
		CHECK(
		    near(reputation_flap_factor(c->pct), c->want_factor, 1e-12),
		    "flap factor of %g %% is %g", c->pct, c->want_factor);
		CHECK(reputation_uptime_stable(c->pct, 90) == c->want_stable,
		      "uptime %g %% stable at 90: %d", c->pct, c->want_stable);
	}
}

int main(void)
{
	test_scores();
	test_defect1_fractional_decay();
	test_defect2_time_based_decay();
	test_prune();
	test_uptime();
	test_flap();
	return check_done();
}
