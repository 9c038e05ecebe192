/* `hive-sim run`: play a scenario for N simulated days on simulated time
 * and write report.json and timeseries.csv. */
#ifndef HIVE_SIM_RUN_H
#define HIVE_SIM_RUN_H
#include "sim/pricing.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct run_opts {
	const char *scenario_path;
	const char *out_dir;
	const char *plugin_dir;
	double days, warmup_days;
	uint64_t seed; /* 0: the scenario's */
	enum baseline_kind baseline; /* BASELINE_NONE: the plugins run */
	double competitor_share;     /* < 0: the scenario's */
	const char *sensitivity;     /* NULL: the scenario's */
	const char *oracle_cache;    /* NULL: the default cache file */
	int jobs;		     /* oracle search workers; 0: cores */
	const char *const *disabled;
	size_t ndisabled;
	json_t *plugin_opts;
	bool verbose;
	bool quiet;		     /* no progress lines */
	int plugin_timeout_ms;
};

/* Returns the process exit status (0 ok, 1 failure, 2 usage). */
int sim_run(const struct run_opts *o);

#endif
