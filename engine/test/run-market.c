/* Unit tests for engine/market.c: the neighbour median with hand-computed
 * weights, its filters, and the competitor minimum. */
#include "engine/market.h"
#include "tests/check.h"

#define NOW 1700000000ULL
#define DAY 86400ULL

static struct market_quote quote(uint64_t ppm, uint64_t cap_sat,
				 uint64_t age_sec)
{
	return (struct market_quote){.base_fee_msat = 0,
				     .fee_ppm = ppm,
				     .capacity_sat = cap_sat,
				     .last_update = NOW - age_sec,
				     .active = true};
}

static void test_median(void)
{
	int64_t m = -1;
	size_t used = 99;

	/* Equal weights: 100, 300, 500 -> the middle one. */
	{
		struct market_quote q[] = {quote(500, 1000000, 0),
					   quote(100, 1000000, 0),
					   quote(300, 1000000, 0)};
		CHECK(market_neighbour_median(q, 3, NOW, 2, &m, &used),
		      "three equal quotes: a median");
		CHECK_EQ_INT(m, 300, "the middle fee");
		CHECK_EQ_INT(used, 3, "all three counted");
	}
	/* Capacity weighs: 5 M sat at 800 ppm against 1 M at 100 and 1 M at
	 * 200 (weights 5, 1, 1; half of 7 is 3.5, reached at 800). */
	{
		struct market_quote q[] = {quote(100, 1000000, 0),
					   quote(200, 1000000, 0),
					   quote(800, 5000000, 0)};
		CHECK(market_neighbour_median(q, 3, NOW, 2, &m, &used),
		      "capacity-weighted");
		CHECK_EQ_INT(m, 800, "the big channel's fee wins");
	}
	/* Freshness weighs: the 5 M channel last updated 10 days ago
	 * weighs 0.5; weights 1, 1, 0.5 -> half of 2.5 = 1.25, reached at
	 * 200. An update under a day old counts fully. */
	{
		struct market_quote q[] = {quote(100, 1000000, DAY / 2),
					   quote(200, 1000000, 0),
					   quote(800, 5000000, 10 * DAY)};
		CHECK(market_neighbour_median(q, 3, NOW, 2, &m, &used),
		      "age-weighted");
		CHECK_EQ_INT(m, 200, "a stale big channel counts less");
	}
	/* Lower median of two equal weights: the first to reach half. */
	{
		struct market_quote q[] = {quote(400, 2000000, 0),
					   quote(100, 2000000, 0)};
		CHECK(market_neighbour_median(q, 2, NOW, 2, &m, &used),
		      "two quotes");
		CHECK_EQ_INT(m, 100, "the lower median");
	}
}

static void test_filters(void)
{
	int64_t m = -7;
	size_t used = 99;
	struct market_quote q[] = {
	    quote(300, 1000000, 0),
	    quote(0, 1000000, 0),     /* free: not a price */
	    quote(20000, 1000000, 0), /* above 10,000 ppm */
	    quote(250, 0, 0),	      /* no capacity */
	    quote(900, 1000000, 0),   /* inactive (below) */
	    quote(10, 1000000, 0),    /* stock pair (below) */
	    quote(10, 1000000, 0),    /* 10 ppm with base 0: a price */
	};

	q[4].active = false;
	q[5].base_fee_msat = 1000;
	CHECK(market_is_stock_fee(1000, 10) && !market_is_stock_fee(0, 10) &&
		  !market_is_stock_fee(1000, 11),
	      "the stock pair is 1000 msat + 10 ppm exactly");
	CHECK(market_neighbour_median(q, 7, NOW, 2, &m, &used),
	      "two quotes survive the filters");
	CHECK_EQ_INT(used, 2, "only 300 ppm and 10 ppm (base 0) count");
	CHECK_EQ_INT(m, 10, "lower median of 10 and 300");

	m = -7;
	CHECK(!market_neighbour_median(q, 7, NOW, 3, &m, &used),
	      "fewer than 3 competitors: no median");
	CHECK_EQ_INT(m, -7, "median untouched");
	CHECK_EQ_INT(used, 2, "but the count is given");
	CHECK(!market_neighbour_median(q, 0, NOW, 1, &m, &used) && used == 0,
	      "no quotes: no median");
	/* min_competitors 0 still needs one quote. */
	CHECK(!market_neighbour_median(&q[1], 1, NOW, 0, &m, &used),
	      "a single filtered quote is no median even with minimum 0");
}

int main(void)
{
	test_median();
	test_filters();
	return check_done();
}
