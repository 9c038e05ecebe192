/* The neighbour median: what other nodes charge to reach the same peer,
 * as a prior for a channel's first fee decision. A channel's own live fee
 * is good evidence when someone chose it; Core Lightning's stock default
 * (1000 msat + 10 ppm) on a new channel is not, and starting the
 * controller there leaves a new channel underpriced for weeks. The
 * neighbours' fees toward the peer are what payers compare us with.
 *
 * Pure: the caller parses `listchannels destination=<peer>` into quotes. */
#ifndef HIVE_ENGINE_MARKET_H
#define HIVE_ENGINE_MARKET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Core Lightning's stock fee pair: a channel at it says nothing about the
 * price, so it is neither a competitor's quote nor our evidence. */
#define MARKET_STOCK_BASE_MSAT 1000
#define MARKET_STOCK_FEE_PPM 10
/* Quotes outside this range are misconfigurations or blocks, not prices. */
#define MARKET_MIN_FEE_PPM 1
#define MARKET_MAX_FEE_PPM 10000

/* One half-channel toward the peer, from another node. */
struct market_quote {
	uint64_t base_fee_msat;
	uint64_t fee_ppm;
	uint64_t capacity_sat;
	uint64_t last_update; /* unix seconds of its channel_update */
	bool active;
};

/* Is base/ppm Core Lightning's stock pair? */
bool market_is_stock_fee(uint64_t base_fee_msat, uint64_t fee_ppm);

/* The capacity- and freshness-weighted (lower) median of @n quotes at
 * @now: weight = capacity in millions of sats / max(1, age in days), so a
 * big, recently updated channel counts most. Inactive quotes, stock pairs,
 * empty channels and fees outside MARKET_MIN..MAX_FEE_PPM are left out.
 * Sorts @q by fee. Returns false (and *median_ppm untouched) when fewer
 * than max(1, @min_competitors) remain; *used gets how many counted. */
bool market_neighbour_median(struct market_quote *q, size_t n, uint64_t now,
			     unsigned min_competitors, int64_t *median_ppm,
			     size_t *used);

#endif
