/* The channel temporal profile; see temporal.h. */
#include "engine/temporal.h"
#include <math.h>
#include <string.h>

#define DAY_SEC 86400ULL
#define HOUR_SEC 3600ULL

void temporal_params_default(struct temporal_params *p)
{
	p->alpha = 0.3;
	p->min_days = 7;
	p->min_forwards_per_day = 10;
}

void temporal_obs_init(struct temporal_obs *o)
{
	memset(o, 0, sizeof(*o));
}

uint64_t temporal_window_start(uint64_t now)
{
	uint64_t today = now / DAY_SEC;

	return today >= TEMPORAL_DAYS ? (today - TEMPORAL_DAYS) * DAY_SEC : 0;
}

bool temporal_obs_add(struct temporal_obs *o, uint64_t now, uint64_t t_sec,
		      uint64_t n)
{
	uint64_t today = now / DAY_SEC, day = t_sec / DAY_SEC;
	uint32_t *c;

	if (t_sec < temporal_window_start(now) || t_sec > now)
		return false;
	/* day >= today - TEMPORAL_DAYS, so the index is 0..TEMPORAL_DAYS. */
	c = &o->count[TEMPORAL_DAYS - (today - day)]
		     [(t_sec % DAY_SEC) / HOUR_SEC];
	*c = n > UINT32_MAX - *c ? UINT32_MAX : *c + (uint32_t)n;
	return true;
}

/* Hours ranked by value, highest first, the earlier hour first among
 * equals (one total order, so peaks and quiet hours never overlap). */
static void rank_hours(const double *v, uint8_t *order)
{
	for (unsigned i = 0; i < TEMPORAL_HOURS; i++) {
		unsigned j = i;
		while (j > 0 && v[order[j - 1]] < v[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = (uint8_t)i;
	}
}

const char *temporal_profile_compute(const struct temporal_params *p,
				     const struct temporal_obs *o, uint64_t now,
				     struct temporal_profile *out)
{
	int64_t today = (int64_t)(now / DAY_SEC);
	size_t first_known, first, d;
	uint64_t total = 0;
	double mean = 0, var = 0, lag = 0, hi, lo;
	uint8_t order[TEMPORAL_HOURS];

	memset(out, 0, sizeof(*out));
	if (!(p->alpha > 0 && p->alpha <= 1))
		return "temporal: alpha must be in (0, 1]";
	if (!(p->min_forwards_per_day >= 0) ||
	    !isfinite(p->min_forwards_per_day))
		return "temporal: min_forwards_per_day must be finite and >= 0";

	/* The first whole day the counts know about: on or after 1970 and
	 * not reaching before known_since_sec. */
	for (first_known = 0; first_known < TEMPORAL_DAYS; first_known++) {
		int64_t day = today - TEMPORAL_DAYS + (int64_t)first_known;
		if (day >= 0 && (uint64_t)day * DAY_SEC >= o->known_since_sec)
			break;
	}
	/* Coverage starts at the first of those days with a forward. */
	for (first = first_known; first < TEMPORAL_DAYS; first++) {
		uint64_t n = 0;
		for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
			n += o->count[first][h];
		if (n)
			break;
	}
	if (first == TEMPORAL_DAYS)
		return NULL; /* no forwards: empty, flat, not graduated */

	out->days = (uint32_t)(TEMPORAL_DAYS - first);
	for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
		out->hourly[h] = o->count[first][h];
	for (d = first; d < TEMPORAL_DAYS; d++)
		for (unsigned h = 0; h < TEMPORAL_HOURS; h++) {
			total += o->count[d][h];
			if (d > first)
				out->hourly[h] =
				    p->alpha * o->count[d][h] +
				    (1 - p->alpha) * out->hourly[h];
		}
	out->forwards_per_day = (double)total / out->days;
	out->graduated = out->days >= p->min_days &&
			 out->forwards_per_day >= p->min_forwards_per_day;

	for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
		mean += out->hourly[h];
	mean /= TEMPORAL_HOURS;
	for (unsigned h = 0; h < TEMPORAL_HOURS; h++) {
		double dev = out->hourly[h] - mean;
		var += dev * dev;
		lag += dev * (out->hourly[(h + 12) % TEMPORAL_HOURS] - mean);
	}
	out->burstiness = mean > 0 ? sqrt(var / TEMPORAL_HOURS) / mean : 0;
	out->diurnal_strength = var > 0 ? fmax(0, -lag / var) : 0;

	rank_hours(out->hourly, order);
	hi = out->hourly[order[0]];
	lo = out->hourly[order[TEMPORAL_HOURS - 1]];
	for (unsigned i = 0; i < TEMPORAL_QUARTILE; i++) {
		uint8_t top = order[i], bottom = order[TEMPORAL_HOURS - 1 - i];
		if (out->hourly[top] > lo)
			out->peak_hours[out->n_peak++] = top;
		if (out->hourly[bottom] < hi)
			out->quiet_hours[out->n_quiet++] = bottom;
	}
	return NULL;
}

double temporal_hour_intensity(const struct temporal_profile *pr, unsigned hour)
{
	double lo = INFINITY, hi = -INFINITY;

	if (hour >= TEMPORAL_HOURS)
		return -1;
	for (unsigned h = 0; h < TEMPORAL_HOURS; h++) {
		double v = pr->hourly[h];
		if (!(v >= 0) || !isfinite(v))
			return -1;
		lo = fmin(lo, v);
		hi = fmax(hi, v);
	}
	if (!(hi > lo))
		return 0.5;
	return (pr->hourly[hour] - lo) / (hi - lo);
}

double temporal_intensity_at(const struct temporal_profile *pr, uint64_t now)
{
	if (!pr->graduated)
		return -1;
	return temporal_hour_intensity(pr,
				       (unsigned)((now % DAY_SEC) / HOUR_SEC));
}
