/* Wall and monotonic time for the runtime, with an override the simulator
 * uses: once simulated, both clocks read the simulated instant and move only
 * when the simulator moves them, so a plugin's timers and its notion of "now"
 * follow simulated time exactly. */
#ifndef HIVE_COMMON_CLOCK_H
#define HIVE_COMMON_CLOCK_H
#include <stdbool.h>
#include <stdint.h>

struct clock;

/* A real clock. Never fails (aborts on OOM). Caller frees with clock_free. */
struct clock *clock_new(void);
void clock_free(struct clock *clk);

/* Seconds since the Unix epoch. */
uint64_t clock_wall_sec(const struct clock *clk);

/* Milliseconds on a clock that never goes backwards (timers use it). */
uint64_t clock_mono_ms(const struct clock *clk);

/* Switch to simulated time at @unix_ms (milliseconds since the epoch).
 * Moving backwards is refused (returns false, clock unchanged). */
bool clock_set_simulated_ms(struct clock *clk, uint64_t unix_ms)
	__attribute__((warn_unused_result));

/* True once clock_set_simulated_ms has been called: time stands still
 * between calls, so a loop must not wait on the clock to move. */
bool clock_is_simulated(const struct clock *clk);

#endif
