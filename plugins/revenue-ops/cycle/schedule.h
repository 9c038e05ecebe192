/* Periodic cycles (flow analysis, fees, rebalancing, snapshots): each runs
 * on its own timer with the reference plugin's start delays and ±20%
 * jitter (drawn from the plugin's seeded PRNG, so a simulation replays),
 * and re-arms only when its run has finished, so a cycle never overlaps
 * itself. Each records its last start, end, duration and outcome for
 * `revenue-health` and the debug RPCs. */
#ifndef HIVE_REVENUE_OPS_CYCLES_H
#define HIVE_REVENUE_OPS_CYCLES_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct revenue;
struct cycle;

/* A cycle's body: do the work (asynchronously if needed) and call
 * cycle_done() exactly once when finished. */
typedef void (*cycle_run_fn)(struct revenue *r, struct cycle *c);

struct cycle_def {
	const char *name;
	cycle_run_fn run;
	/* Seconds; interval() reads the live config each time. */
	uint64_t start_delay_sec;
	uint64_t (*interval_sec)(const struct revenue *r);
	double jitter; /* fraction, e.g. 0.2 */
};

struct cycle *cycle_start(struct revenue *r, const struct cycle_def *def);
/* Finish the current run; @error (copied) NULL on success. Re-arms. */
void cycle_done(struct cycle *c, const char *error);
/* Run now (if not already running), then keep the usual schedule. */
void cycle_wake(struct cycle *c);
bool cycle_running(const struct cycle *c);
/* Cancel the timer; a run in progress is left to finish. Frees. */
void cycle_stop(struct cycle *c);
/* {name, state, runs, last_start, last_end, last_duration_ms,
 *  last_error, next_run} (new reference). */
json_t *cycle_status_json(const struct cycle *c);
/* revenue-health's view: {state (running | waiting | stalled),
 * last_tick_ts, last_tick_age_seconds (null before the first run),
 * stall_threshold_seconds, runs, last_error (when the last run failed)}. *stalled: a run has lasted longer than
 * the threshold, or the timer is overdue by more than it. The threshold is
 * three intervals, at least CYCLE_MIN_STALL_SEC. */
#define CYCLE_MIN_STALL_SEC 900
json_t *cycle_health_json(const struct cycle *c, bool *stalled);
const char *cycle_name(const struct cycle *c);
/* The last run's error, or NULL if it succeeded (or never ran). */
const char *cycle_last_error(const struct cycle *c);
uint64_t cycle_runs(const struct cycle *c);

#endif
