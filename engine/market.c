/* The neighbour median; see market.h. */
#include "engine/market.h"
#include <stdlib.h>

bool market_is_stock_fee(uint64_t base_fee_msat, uint64_t fee_ppm)
{
	return base_fee_msat == MARKET_STOCK_BASE_MSAT &&
	       fee_ppm == MARKET_STOCK_FEE_PPM;
}

/* 0 for a quote that does not count. */
static double weight_of(const struct market_quote *q, uint64_t now)
{
	double age_days;

	if (!q->active || market_is_stock_fee(q->base_fee_msat, q->fee_ppm) ||
	    q->fee_ppm < MARKET_MIN_FEE_PPM || q->fee_ppm > MARKET_MAX_FEE_PPM)
		return 0;
	age_days = q->last_update < now
			   ? (double)(now - q->last_update) / 86400.0
			   : 0;
	return ((double)q->capacity_sat / 1e6) / (age_days > 1 ? age_days : 1);
}

static int by_fee(const void *a, const void *b)
{
	const struct market_quote *x = a, *y = b;
	return (x->fee_ppm > y->fee_ppm) - (x->fee_ppm < y->fee_ppm);
}

bool market_neighbour_median(struct market_quote *q, size_t n, uint64_t now,
			     unsigned min_competitors, int64_t *median_ppm,
			     size_t *used)
{
	double total = 0, run = 0;

	*used = 0;
	for (size_t i = 0; i < n; i++) {
		double w = weight_of(&q[i], now);
		if (w > 0) {
			total += w;
			(*used)++;
		}
	}
	if (*used == 0 || *used < min_competitors)
		return false;
	qsort(q, n, sizeof(*q), by_fee);
	/* The lower weighted median: the first fee at which half the
	 * weight is reached. */
	for (size_t i = 0; i < n; i++) {
		run += weight_of(&q[i], now);
		if (run >= total / 2) {
			*median_ppm = (int64_t)q[i].fee_ppm;
			return true;
		}
	}
	return false; /* not reached: the weights sum to total */
}
