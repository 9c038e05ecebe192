/* Unit tests for common/clock.c: the real clocks move sensibly, the
 * simulated clock reads exactly what the simulator set and refuses to go
 * backwards. */
#include "common/clock.h"
#include "tests/check.h"
#include <inttypes.h>
#include <string.h>
#include <time.h>

static void test_real(void)
{
	struct clock *clk = clock_new();
	uint64_t before = (uint64_t)time(NULL);
	uint64_t wall = clock_wall_sec(clk);
	uint64_t after = (uint64_t)time(NULL);
	uint64_t prev = clock_mono_ms(clk), backwards = 0;

	CHECK(!clock_is_simulated(clk), "a new clock is real");
	CHECK(wall >= before && wall <= after,
	      "wall clock %" PRIu64 " within [%" PRIu64 ", %" PRIu64 "]",
	      wall, before, after);
	for (int i = 0; i < 100000; i++) {
		uint64_t now = clock_mono_ms(clk);
		if (now < prev)
			backwards++;
		prev = now;
	}
	CHECK_EQ_INT(backwards, 0, "monotonic clock never went backwards");
	clock_free(clk);
	clock_free(NULL);
}

struct step {
	uint64_t set_ms;
	bool ok;
	uint64_t mono_after, wall_after;
};

static void test_simulated(void)
{
	/* Each step is applied in order to one clock. */
	static const struct step steps[] = {
		{.set_ms = 1700000000123ULL, .ok = true,
		 .mono_after = 1700000000123ULL, .wall_after = 1700000000},
		/* Same instant: allowed (time may stand still). */
		{.set_ms = 1700000000123ULL, .ok = true,
		 .mono_after = 1700000000123ULL, .wall_after = 1700000000},
		{.set_ms = 1700000000999ULL, .ok = true,
		 .mono_after = 1700000000999ULL, .wall_after = 1700000000},
		{.set_ms = 1700000001000ULL, .ok = true,
		 .mono_after = 1700000001000ULL, .wall_after = 1700000001},
		/* One millisecond back: refused, clock unchanged. */
		{.set_ms = 1700000000999ULL, .ok = false,
		 .mono_after = 1700000001000ULL, .wall_after = 1700000001},
		{.set_ms = 0, .ok = false, .mono_after = 1700000001000ULL,
		 .wall_after = 1700000001},
		{.set_ms = UINT64_MAX, .ok = true, .mono_after = UINT64_MAX,
		 .wall_after = UINT64_MAX / 1000},
		{.set_ms = UINT64_MAX - 1, .ok = false,
		 .mono_after = UINT64_MAX, .wall_after = UINT64_MAX / 1000},
	};
	struct clock *clk = clock_new();

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *s = &steps[i];
		bool ok = clock_set_simulated_ms(clk, s->set_ms);
		uint64_t mono, wall;
		CHECK_EQ_INT(ok, s->ok, "step %zu: set %" PRIu64 " accepted?",
			     i, s->set_ms);
		CHECK(clock_is_simulated(clk), "step %zu: simulated", i);
		/* Time stands still between calls. */
		mono = clock_mono_ms(clk);
		CHECK(mono == s->mono_after && clock_mono_ms(clk) == mono,
		      "step %zu: mono %" PRIu64 " (want %" PRIu64 ")", i, mono,
		      s->mono_after);
		wall = clock_wall_sec(clk);
		CHECK(wall == s->wall_after,
		      "step %zu: wall %" PRIu64 " (want %" PRIu64 ")", i, wall,
		      s->wall_after);
	}
	clock_free(clk);

	/* The first switch may go to any instant, even before the real
	 * monotonic reading. */
	clk = clock_new();
	CHECK(clock_set_simulated_ms(clk, 5), "first simulated instant 5 ms");
	CHECK_EQ_INT(clock_mono_ms(clk), 5, "mono reads 5");
	CHECK_EQ_INT(clock_wall_sec(clk), 0, "wall reads 0 s");
	CHECK(!clock_set_simulated_ms(clk, 4), "4 ms after 5 ms refused");
	CHECK_EQ_INT(clock_mono_ms(clk), 5, "still 5 after refusal");
	clock_free(clk);
}

int main(void)
{
	test_real();
	test_simulated();
	return check_done();
}
