/* Real or simulated time; see clock.h. */
#include "common/clock.h"
#include "common/util.h"
#include <time.h>

struct clock {
	bool simulated;
	uint64_t sim_ms;
};

struct clock *clock_new(void)
{
	struct clock *clk = xzalloc(sizeof(*clk));
	return clk;
}

void clock_free(struct clock *clk)
{
	free(clk);
}

static uint64_t read_clock_ms(clockid_t id)
{
	struct timespec ts;

	/* These clocks cannot fail on Linux with valid ids. */
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t clock_wall_sec(const struct clock *clk)
{
	if (clk->simulated)
		return clk->sim_ms / 1000;
	return read_clock_ms(CLOCK_REALTIME) / 1000;
}

uint64_t clock_mono_ms(const struct clock *clk)
{
	if (clk->simulated)
		return clk->sim_ms;
	return read_clock_ms(CLOCK_MONOTONIC);
}

bool clock_set_simulated_ms(struct clock *clk, uint64_t unix_ms)
{
	if (clk->simulated && unix_ms < clk->sim_ms)
		return false;
	clk->simulated = true;
	clk->sim_ms = unix_ms;
	return true;
}

bool clock_is_simulated(const struct clock *clk)
{
	return clk->simulated;
}
