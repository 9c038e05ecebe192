/* Unit tests for engine/temporal.c: the counting window (partial current
 * day, saturation), coverage and graduation (no forwards, one day, exactly
 * the threshold, known_since), the hourly EMA, burstiness, diurnal
 * strength, peak and quiet hours (with ties), intensities and the fee
 * controller's time_intensity. Expected values are worked out by hand in
 * the comments. */
#include "engine/temporal.h"
#include "tests/check.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#define DAY 86400ULL
#define HOUR 3600ULL
/* 2026-01-01 00:00 UTC, a midnight. */
#define D0 1767225600ULL
/* 2026-01-21 21:30 UTC: today is D0 + 20 days, the window's first day
 * (index 0) is D0 + 6 days, yesterday (index 13) D0 + 19 days. */
#define NOW (D0 + 20 * DAY + 21 * HOUR + 1800)
#define WSTART (D0 + 6 * DAY)

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* A second inside hour @h of window day @d (14: today). */
static uint64_t at(unsigned d, unsigned h)
{
	return WSTART + d * DAY + h * HOUR + 59;
}

static void compute(const struct temporal_obs *o, struct temporal_profile *pr)
{
	struct temporal_params p;
	const char *err;

	temporal_params_default(&p);
	err = temporal_profile_compute(&p, o, NOW, pr);
	if (err)
		CHECK(false, "unexpected temporal_profile_compute error: %s",
		      err);
}

static void check_hours(const uint8_t *got, size_t n, const uint8_t *want,
			size_t nwant, const char *what)
{
	bool same = n == nwant;

	for (size_t i = 0; same && i < n; i++)
		same = got[i] == want[i];
	CHECK(same, "%s", what);
	if (!same) {
		printf("#   got");
		for (size_t i = 0; i < n; i++)
			printf(" %u", got[i]);
		printf("; want");
		for (size_t i = 0; i < nwant; i++)
			printf(" %u", want[i]);
		printf("\n");
	}
}

static void test_window(void)
{
	struct temporal_obs o;

	temporal_obs_init(&o);
	CHECK_EQ_INT(temporal_window_start(NOW), WSTART,
		     "window starts at 00:00 UTC 14 days before today");
	CHECK_EQ_INT(temporal_window_start(3 * DAY + 5), 0,
		     "a window reaching before 1970 starts at 0");
	CHECK(!temporal_obs_add(&o, NOW, WSTART - 1, 1),
	      "a forward before the window is not counted");
	CHECK(temporal_obs_add(&o, NOW, WSTART, 2) && o.count[0][0] == 2,
	      "the window's first second is day 0, hour 0");
	CHECK(temporal_obs_add(&o, NOW, at(13, 23), 1) && o.count[13][23] == 1,
	      "yesterday 23:xx is day 13, hour 23");
	CHECK(temporal_obs_add(&o, NOW, NOW, 1) && o.count[14][21] == 1,
	      "now (21:30) is today's (day 14) hour 21");
	CHECK(!temporal_obs_add(&o, NOW, NOW + 1, 1),
	      "a forward after now is not counted");
	CHECK(temporal_obs_add(&o, NOW, at(5, 7), UINT32_MAX - 1) &&
		  temporal_obs_add(&o, NOW, at(5, 7), 5) &&
		  o.count[5][7] == UINT32_MAX,
	      "counts saturate");
}

static void test_no_forwards(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;
	bool zero = true;

	temporal_obs_init(&o);
	compute(&o, &pr);
	for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
		zero = zero && pr.hourly[h] == 0;
	CHECK(!pr.graduated && pr.days == 0 && pr.forwards_per_day == 0 && zero,
	      "no forwards: nothing covered, not graduated");
	CHECK(pr.n_peak == 0 && pr.n_quiet == 0 && pr.burstiness == 0 &&
		  pr.diurnal_strength == 0,
	      "no forwards: no peaks, no quiet hours, no burstiness, no "
	      "cycle");
	CHECK(temporal_hour_intensity(&pr, 3) == 0.5,
	      "no forwards: every hour has intensity 0.5");
	CHECK(temporal_intensity_at(&pr, NOW) == -1,
	      "no forwards: time intensity unknown (-1)");

	/* Only today's (partial) day has forwards: still nothing. */
	o.count[14][3] = 500;
	compute(&o, &pr);
	CHECK(pr.days == 0 && !pr.graduated && pr.hourly[3] == 0,
	      "forwards of today alone cover nothing");
}

static void test_flat(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;
	bool ones = true;

	/* One forward every hour of 14 days: 24 a day. */
	temporal_obs_init(&o);
	for (unsigned d = 0; d < TEMPORAL_DAYS; d++)
		for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
			o.count[d][h] = 1;
	compute(&o, &pr);
	for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
		ones = ones && near(pr.hourly[h], 1, 1e-12);
	CHECK(pr.graduated && pr.days == 14 && pr.forwards_per_day == 24 &&
		  ones,
	      "flat: 14 days of 24 a day, graduated, hourly 1 everywhere");
	CHECK(pr.burstiness == 0 && pr.diurnal_strength == 0,
	      "flat: burstiness 0, no daily cycle");
	CHECK(pr.n_peak == 0 && pr.n_quiet == 0,
	      "flat: no peak and no quiet hours");
	CHECK(temporal_intensity_at(&pr, NOW) == 0.5,
	      "flat: graduated, intensity 0.5 at any hour");
}

static void test_one_day(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;

	/* Yesterday only: 60 at 21:00, none at 09:00, 2 in each other
	 * hour: 60 + 22 x 2 = 104 forwards. */
	temporal_obs_init(&o);
	for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
		o.count[13][h] = 2;
	o.count[13][21] = 60;
	o.count[13][9] = 0;
	compute(&o, &pr);
	CHECK(pr.days == 1 && pr.forwards_per_day == 104 && !pr.graduated,
	      "one day of 104 forwards: covers 1 day, not graduated");
	CHECK(pr.hourly[21] == 60 && pr.hourly[9] == 0 && pr.hourly[0] == 2,
	      "one day: the EMA starts at that day's counts");
	CHECK(temporal_hour_intensity(&pr, 21) == 1 &&
		  temporal_hour_intensity(&pr, 9) == 0 &&
		  near(temporal_hour_intensity(&pr, 0), 2.0 / 60, 1e-12),
	      "one day: intensity (v - 0) / (60 - 0)");
	CHECK(temporal_intensity_at(&pr, NOW) == -1,
	      "one day: not graduated, time intensity -1");
}

static void test_threshold(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;

	/* Days 7..13 (the last 7 complete days), 10 forwards each (hours
	 * 0..9): 70 / 7 = 10 a day, exactly the threshold. */
	temporal_obs_init(&o);
	for (unsigned d = 7; d < TEMPORAL_DAYS; d++)
		for (unsigned h = 0; h < 10; h++)
			o.count[d][h] = 1;
	compute(&o, &pr);
	CHECK(pr.days == 7 && pr.forwards_per_day == 10 && pr.graduated,
	      "7 days x 10 forwards: graduated (>= on both)");

	/* One forward fewer: 69 / 7 = 9.857 < 10. */
	o.count[13][0] = 0;
	compute(&o, &pr);
	CHECK(pr.days == 7 && near(pr.forwards_per_day, 69.0 / 7, 1e-12) &&
		  !pr.graduated,
	      "69 forwards over 7 days: not graduated");

	/* Six days (8..13) of 100 a day: busy but too short. */
	temporal_obs_init(&o);
	for (unsigned d = 8; d < TEMPORAL_DAYS; d++)
		o.count[d][12] = 100;
	compute(&o, &pr);
	CHECK(pr.days == 6 && pr.forwards_per_day == 100 && !pr.graduated,
	      "6 days of 100 a day: not graduated");

	/* 70 forwards on day 7 and quiet days after it: the quiet days are
	 * covered (real zeros), 70 / 7 = 10, graduated. hourly[3] = 70 x
	 * 0.7^6 = 70 x 0.117649 = 8.23543. */
	temporal_obs_init(&o);
	o.count[7][3] = 70;
	compute(&o, &pr);
	CHECK(pr.days == 7 && pr.forwards_per_day == 10 && pr.graduated &&
		  near(pr.hourly[3], 8.23543, 1e-9),
	      "quiet days after the first forward count as covered");
}

static void test_known_since(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;

	temporal_obs_init(&o);
	for (unsigned d = 0; d < TEMPORAL_DAYS; d++)
		for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
			o.count[d][h] = 1;
	/* Hours known from 01:00 on day 5: day 5 is partial, so coverage
	 * starts on day 6: 8 days. */
	o.known_since_sec = WSTART + 5 * DAY + HOUR;
	compute(&o, &pr);
	CHECK_EQ_INT(pr.days, 8, "a day reaching before known_since is out");
	o.known_since_sec = WSTART + 5 * DAY;
	compute(&o, &pr);
	CHECK_EQ_INT(pr.days, 9, "a day starting at known_since is in");
	o.known_since_sec = NOW;
	compute(&o, &pr);
	CHECK(pr.days == 0 && !pr.graduated,
	      "nothing known before now: nothing covered");
}

static void test_ema(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;
	struct temporal_params p;

	/* Hour 5: 10, then 0, then 20 (days 11, 12, 13), oldest first:
	 * 10 -> 0.3 x 0 + 0.7 x 10 = 7 -> 0.3 x 20 + 0.7 x 7 = 10.9. */
	temporal_obs_init(&o);
	o.count[11][5] = 10;
	o.count[12][5] = 0;
	o.count[13][5] = 20;
	compute(&o, &pr);
	CHECK(near(pr.hourly[5], 10.9, 1e-12) && pr.days == 3 &&
		  pr.forwards_per_day == 10,
	      "EMA 10, 0, 20 -> 10.9 over 3 days of 10 a day");
	CHECK(pr.hourly[4] == 0 && pr.hourly[6] == 0,
	      "hours without forwards stay at 0");

	/* A huge partial day changes nothing. */
	o.count[14][5] = 1000;
	compute(&o, &pr);
	CHECK(near(pr.hourly[5], 10.9, 1e-12) && pr.forwards_per_day == 10,
	      "the current partial day is left out");

	/* alpha 1: only the last complete day counts. */
	temporal_params_default(&p);
	p.alpha = 1;
	CHECK(temporal_profile_compute(&p, &o, NOW, &pr) == NULL &&
		  pr.hourly[5] == 20,
	      "alpha 1: the last complete day");
}

static void test_three_levels(void)
{
	struct temporal_obs o;
	struct temporal_profile pr, pr2;
	static const uint8_t peak[] = {21, 0, 1, 2, 3, 4};
	static const uint8_t quiet[] = {9, 23, 22, 20, 19, 18};

	/* Every day: 10 at 21:00, 0 at 09:00, 5 in the other 22 hours (120
	 * a day). mean = 120 / 24 = 5; deviations +5 (21), -5 (9), 0
	 * elsewhere. std = sqrt(50 / 24) = 1.443376, burstiness = 1.443376
	 * / 5 = 0.288675. Lag 12 pairs 21 with 9: sum of products -25 - 25
	 * = -50 over a variance sum of 50: autocorrelation -1, strength 1.
	 * Ranking: 21, then the 5s by hour (0, 1, ..., 23 without 9 and
	 * 21), then 9. */
	temporal_obs_init(&o);
	for (unsigned d = 0; d < TEMPORAL_DAYS; d++) {
		for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
			o.count[d][h] = 5;
		o.count[d][21] = 10;
		o.count[d][9] = 0;
	}
	compute(&o, &pr);
	CHECK(pr.graduated && pr.days == 14 && pr.forwards_per_day == 120,
	      "three levels: graduated, 120 a day");
	CHECK(near(pr.hourly[21], 10, 1e-9) && near(pr.hourly[9], 0, 1e-9) &&
		  near(pr.hourly[0], 5, 1e-9),
	      "identical days: the EMA is the day's counts");
	CHECK(near(pr.burstiness, sqrt(50.0 / 24) / 5, 1e-9) &&
		  near(pr.burstiness, 0.288675, 1e-6),
	      "burstiness 0.288675 (got %f)", pr.burstiness);
	CHECK(near(pr.diurnal_strength, 1, 1e-9),
	      "a peak 12 h from the trough: diurnal strength 1 (got %f)",
	      pr.diurnal_strength);
	check_hours(pr.peak_hours, pr.n_peak, peak, 6,
		    "peak: 21, then the 5s earliest first");
	check_hours(pr.quiet_hours, pr.n_quiet, quiet, 6,
		    "quiet: 9, then the 5s latest first (never a peak)");
	CHECK(temporal_intensity_at(&pr, NOW) == 1, "21:30 UTC: intensity 1");
	CHECK(near(temporal_intensity_at(&pr, D0 + 9 * HOUR + 5), 0, 1e-12),
	      "09:00 UTC: intensity 0");
	CHECK(near(temporal_intensity_at(&pr, D0 + 12 * HOUR), 0.5, 1e-9),
	      "12:00 UTC: intensity (5 - 0) / (10 - 0) = 0.5");

	/* Today's counts, however odd, change nothing. */
	o.count[14][9] = 900;
	compute(&o, &pr2);
	CHECK(memcmp(&pr, &pr2, sizeof(pr)) == 0,
	      "the current partial day is left out of every figure");
}

static void test_triangle(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;
	static const unsigned tri[13] = {20, 18, 16, 14, 12, 10, 8,
					 6,  4,	 3,  2,	 1,  0};
	/* 18 and 0 tie at 14: the earlier hour (0) ranks higher. */
	static const uint8_t peak[] = {21, 20, 22, 19, 23, 0};
	/* 8 and 10 tie at 1, 7 and 11 at 2, 6 and 12 at 3: the later hour
	 * is the quieter. */
	static const uint8_t quiet[] = {9, 10, 8, 11, 7, 12};

	/* A daily triangle peaking at 21:00 UTC (20) down to 09:00 (0):
	 * count = tri[circular distance from 21]; 208 a day, mean 26/3.
	 * Sum of squared deviations 2692/3, lag-12 products -2624/3:
	 * strength 2624/2692 = 0.974740; burstiness sqrt(2692/3/24) /
	 * (26/3) = 0.705536. */
	temporal_obs_init(&o);
	for (unsigned d = 0; d < TEMPORAL_DAYS; d++)
		for (unsigned h = 0; h < TEMPORAL_HOURS; h++) {
			unsigned k = h > 21 ? h - 21 : 21 - h;
			o.count[d][h] = tri[k > 12 ? 24 - k : k];
		}
	compute(&o, &pr);
	CHECK(pr.graduated && pr.forwards_per_day == 208,
	      "triangle: 208 a day, graduated");
	CHECK(near(pr.diurnal_strength, 2624.0 / 2692, 1e-9),
	      "triangle: diurnal strength 0.974740 (got %f)",
	      pr.diurnal_strength);
	CHECK(near(pr.burstiness, 0.705536, 1e-6),
	      "triangle: burstiness 0.705536 (got %f)", pr.burstiness);
	check_hours(pr.peak_hours, pr.n_peak, peak, 6,
		    "triangle: peak hours around 21, strongest first");
	check_hours(pr.quiet_hours, pr.n_quiet, quiet, 6,
		    "triangle: quiet hours around 9, quietest first");
	CHECK(near(temporal_hour_intensity(&pr, 18), 0.7, 1e-9) &&
		  near(temporal_hour_intensity(&pr, 3), 0.4, 1e-9),
	      "triangle: intensity 14/20 at 18:00, 8/20 at 03:00");
}

static void test_sparse(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;
	static const uint8_t peak[] = {20, 21, 22, 23};

	/* Forwards only at 20..23: 4 hours above the minimum (0), so 4
	 * peaks, not 6; quiet hours are the latest zero hours. */
	temporal_obs_init(&o);
	for (unsigned d = 0; d < TEMPORAL_DAYS; d++)
		for (unsigned h = 20; h < 24; h++)
			o.count[d][h] = 5;
	compute(&o, &pr);
	check_hours(pr.peak_hours, pr.n_peak, peak, 4,
		    "sparse: only hours above the minimum are peaks");
	CHECK(pr.n_quiet == 6 && pr.quiet_hours[0] == 19 &&
		  pr.quiet_hours[5] == 14,
	      "sparse: six quiet hours among the zeros");
}

static void test_errors(void)
{
	struct temporal_obs o;
	struct temporal_profile pr;
	struct temporal_params p;

	temporal_obs_init(&o);
	o.count[13][1] = 3;
	temporal_params_default(&p);
	p.alpha = 0;
	CHECK(temporal_profile_compute(&p, &o, NOW, &pr) != NULL &&
		  pr.days == 0,
	      "alpha 0 is refused and the profile zeroed");
	p.alpha = 1.5;
	CHECK(temporal_profile_compute(&p, &o, NOW, &pr) != NULL,
	      "alpha above 1 is refused");
	temporal_params_default(&p);
	p.min_forwards_per_day = NAN;
	CHECK(temporal_profile_compute(&p, &o, NOW, &pr) != NULL,
	      "a NaN threshold is refused");

	/* A profile read back from storage with a bad value. */
	memset(&pr, 0, sizeof(pr));
	pr.graduated = true;
	pr.hourly[4] = NAN;
	CHECK(temporal_intensity_at(&pr, NOW) == -1,
	      "a NaN hour gives -1, never NaN");
	pr.hourly[4] = -3;
	CHECK(temporal_hour_intensity(&pr, 1) == -1,
	      "a negative hour gives -1");
	pr.hourly[4] = 3;
	CHECK(temporal_hour_intensity(&pr, 24) == -1 &&
		  temporal_hour_intensity(&pr, 4) == 1 &&
		  temporal_hour_intensity(&pr, 5) == 0,
	      "hour out of range -1; otherwise (v - min) / (max - min)");
}

int main(void)
{
	test_window();
	test_no_forwards();
	test_flat();
	test_one_day();
	test_threshold();
	test_known_since();
	test_ema();
	test_three_levels();
	test_triangle();
	test_sparse();
	test_errors();
	return check_done();
}
