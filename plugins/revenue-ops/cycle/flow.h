/* The flow cycle (spec §4.2-§4.5, §5.3): reconcile forwards, gather the
 * node, classify every active channel (flow window, daily buckets, Kalman
 * filter, congestion), learn each one's temporal profile (engine/
 * temporal.h: when in the UTC day it routes), aggregate multi-channel
 * peers, update peer reputation, expire policies, then persist everything
 * in one transaction and prune old forwards and connection events.
 *
 * flow_compute() only reads, so revenue-analyze can show a fresh analysis
 * without changing any state (defect 38). */
#ifndef HIVE_REVENUE_OPS_FLOW_CYCLE_H
#define HIVE_REVENUE_OPS_FLOW_CYCLE_H
#include "plugins/revenue-ops/store/flow_state.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct cycle;
struct node_view;
struct revenue;

/* Analyse every active channel of @v (or only @only_scid when non-NULL)
 * at @now from the stored forwards and states. Reads only. Per-channel
 * problems are recorded in that channel (ok = false), not fatal. Caller
 * frees with flow_run_free (store/flow_state.h). */
bool flow_compute(struct revenue *r, const struct node_view *v, uint64_t now,
		  const char *only_scid, struct flow_run *out, char **err)
    __attribute__((warn_unused_result));

/* The fee controller's time_intensity for @scid at @now from the last
 * flow run's profile (temporal_intensity_at), -1 when there is none or it
 * has not graduated. Kept in memory by the flow cycle: the fee cycle reads
 * it for every channel every run. */
double flow_time_intensity(const struct revenue *r, const char *scid,
			   uint64_t now);
/* Free struct pipeline's temporal profiles (accepts NULL). */
struct u64map;
void flow_temporal_cache_free(struct u64map *cache);

/* Start the "flow-analysis" cycle (30 s after start, then every
 * flow_interval ± 20 %); the pipeline (pipeline.h) must exist. */
void flow_cycle_start(struct revenue *r);

#endif
