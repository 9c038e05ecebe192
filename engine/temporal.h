/* The channel temporal profile (spec §4.2 "Temporal profile (v2.x)"):
 * when in the UTC day a channel routes, learned from its settled forwards
 * (in and out through it) per UTC day and hour over the last 14 days.
 *
 *   hourly[h]   exponential moving average across days (alpha 0.3,
 *               oldest complete day first) of the forwards in hour h;
 *               the current, partial day is left out
 *   graduated   the profile covers >= 7 days with >= 10 forwards per day
 *               on average; before that it is shown but not used
 *   burstiness  std / mean of the 24 values
 *   peak_hours  the top quartile (6 hours), quiet_hours the bottom one
 *   diurnal_strength  max(0, -autocorrelation at lag 12), circular over
 *               the 24 hours: 1 for a clean day/night cycle, 0 for none
 *   intensity   of an hour: (hourly[h] - min) / (max - min) in 0..1
 *
 * The fee controller's time context (engine/fee_ctl.h, time_intensity) is
 * the intensity of the UTC hour of now once graduated, -1 (unknown)
 * before.
 *
 * Choices the specification leaves open, and why:
 *
 * - Coverage starts at the first complete day with a forward (or the
 *   first whole day the counts are known for, see known_since_sec, if
 *   that is later). Days before a channel's first forward say nothing
 *   about its hours (it may not have existed); quiet days after it are
 *   real zeros and count. So a channel opened three days ago covers three
 *   days, not fourteen, and cannot graduate on a short burst.
 * - forwards_per_day is the total over the covered days divided by their
 *   number: the threshold asks about typical traffic, not about the
 *   busiest day.
 * - The EMA starts at the first covered day's counts rather than at 0, so
 *   a young profile is not biased toward zero (with alpha 0.3 a zero
 *   start would still weigh 0.7^6 = 12 % after a week).
 * - Peak and quiet hours come from one ranking of the hours (higher
 *   value first, the earlier hour first among equals), so the two lists
 *   never share an hour, even with ties. An hour at the profile's
 *   minimum is never a peak and one at its maximum never quiet, so a
 *   flat profile (no forwards at all, or the same every hour) has
 *   neither, and a sparse one may have fewer than six peaks. Peaks are
 *   listed strongest first, quiet hours quietest first.
 * - Standard deviations are population ones (over exactly 24 values);
 *   burstiness is 0 when the mean is 0, diurnal_strength 0 when every
 *   hour is equal (no autocorrelation to speak of).
 * - The intensity of a flat profile is 0.5 for every hour: the middle
 *   ("normal") time context, the same as before the profile existed. */
#ifndef HIVE_ENGINE_TEMPORAL_H
#define HIVE_ENGINE_TEMPORAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEMPORAL_HOURS 24
#define TEMPORAL_DAYS 14    /* complete days in the window */
#define TEMPORAL_QUARTILE 6 /* hours in a quartile of the day */

struct temporal_params {
	double alpha;		     /* EMA weight of the newer day: 0.3 */
	uint32_t min_days;	     /* covered days to graduate: 7 */
	double min_forwards_per_day; /* average to graduate: 10 */
};

/* The reference values above. */
void temporal_params_default(struct temporal_params *p);

/* One channel's settled forwards (in and out through it) per UTC day and
 * hour: count[d][h] for UTC day (day of now) - TEMPORAL_DAYS + d, so
 * count[0] is the oldest complete day, count[TEMPORAL_DAYS - 1]
 * yesterday and count[TEMPORAL_DAYS] today, still partial (kept so a
 * caller can add forwards without sorting them; never used). */
struct temporal_obs {
	uint32_t count[TEMPORAL_DAYS + 1][TEMPORAL_HOURS];
	/* Forwards received before this second are not in the counts (the
	 * raw store keeps hours only for its retention; older days are
	 * daily totals). A day that starts before it is not covered. 0:
	 * everything is known. */
	uint64_t known_since_sec;
};

/* No forwards, everything known. */
void temporal_obs_init(struct temporal_obs *o);

/* The first second the counts for a profile at @now cover: 00:00 UTC,
 * TEMPORAL_DAYS days before the day of @now (0 if that is before 1970). */
uint64_t temporal_window_start(uint64_t now);

/* Add @n forwards received at @t_sec (any second of their hour) to @o,
 * for a profile at @now. Counts saturate at UINT32_MAX. Returns false,
 * adding nothing, when @t_sec is before temporal_window_start(@now) or
 * after @now (a caller's clock skew, never an error worth more). */
bool temporal_obs_add(struct temporal_obs *o, uint64_t now, uint64_t t_sec,
		      uint64_t n);

struct temporal_profile {
	bool graduated;
	uint32_t days;		       /* complete days covered, 0..14 */
	double forwards_per_day;       /* over the covered days */
	double hourly[TEMPORAL_HOURS]; /* EMA of forwards in each UTC hour */
	uint8_t peak_hours[TEMPORAL_QUARTILE]; /* strongest first */
	size_t n_peak;
	uint8_t quiet_hours[TEMPORAL_QUARTILE]; /* quietest first */
	size_t n_quiet;
	double burstiness;	 /* std / mean of hourly[] */
	double diurnal_strength; /* max(0, -autocorrelation at lag 12) */
};

/* The profile of @o at @now (@now only places today: its counts are left
 * out). A channel without forwards gets an empty, ungraduated profile.
 * Returns NULL, or an error for parameters out of range (alpha outside
 * (0, 1], a negative or non-finite threshold); @out is zeroed then. */
const char *temporal_profile_compute(const struct temporal_params *p,
				     const struct temporal_obs *o, uint64_t now,
				     struct temporal_profile *out)
    __attribute__((warn_unused_result));

/* Intensity of UTC hour @hour (0..23) in 0..1: (hourly[hour] - min) /
 * (max - min) over the 24 hours, 0.5 when they are all equal. -1 for an
 * hour out of range or a profile holding a negative or non-finite value
 * (one read back from storage, say). */
double temporal_hour_intensity(const struct temporal_profile *pr,
			       unsigned hour);

/* The fee controller's time_intensity at @now: the intensity of the UTC
 * hour of @now when @pr is graduated, else -1 (unknown). Never NaN. */
double temporal_intensity_at(const struct temporal_profile *pr, uint64_t now);

#endif
