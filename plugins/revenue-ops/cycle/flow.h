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
#include "engine/congestion.h"
#include "engine/flow.h"
#include "engine/kalman.h"
#include "engine/temporal.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chan_info;
struct cycle;
struct fwd_chan_stats;
struct node_view;
struct revenue;

/* A channel's lifetime forward counts (raw rows plus rollups). */
struct flow_lifetime {
	uint64_t in_count, out_count;
	uint64_t last_in_sec, last_out_sec; /* 0: never */
};

/* The lifetime counts from a channel's forward statistics, whose window
 * @w_all starts at 0 (everything stored). */
void flow_lifetime_of(const struct fwd_chan_stats *cs, size_t w_all,
		      struct flow_lifetime *out);

/* One channel's analysis. */
struct flow_chan {
	const struct chan_info *ci; /* borrowed from the node view */
	bool ok;
	char error[120];
	struct flow_obs obs;	/* obs.kalman points at .ks */
	struct flow_state fst;	/* updated by the analysis */
	struct kalman_state ks; /* updated by the filter step */
	struct kalman_result kres;
	struct flow_result res;
	struct congestion_result cong;
	struct flow_lifetime life;
	double z24; /* the Kalman measurement used */
	struct temporal_profile temporal;
};

struct flow_peer {
	char peer_id[67];
	struct flow_peer_result res;
};

struct flow_run {
	struct flow_chan *ch;
	size_t n;
	struct flow_peer *peers; /* peers with two or more channels */
	size_t npeers;
};

/* Analyse every active channel of @v (or only @only_scid when non-NULL)
 * at @now from the stored forwards and states. Reads only. Per-channel
 * problems are recorded in that channel (ok = false), not fatal. Caller
 * frees with flow_run_free. */
bool flow_compute(struct revenue *r, const struct node_view *v, uint64_t now,
		  const char *only_scid, struct flow_run *out, char **err)
    __attribute__((warn_unused_result));
void flow_run_free(struct flow_run *run);

/* Persist channel_states, kalman_state and peer_flow_states of @run, in
 * the caller's transaction. */
bool flow_persist(struct revenue *r, const struct flow_run *run, uint64_t now,
		  char **err) __attribute__((warn_unused_result));

/* The reference's FlowMetrics object for one channel, with its temporal
 * profile as `temporal` (new reference). */
json_t *flow_chan_json(const struct flow_chan *c, uint64_t now);

/* A temporal profile as JSON (new reference): {graduated, days,
 * forwards_per_day, hourly[24], peak_hours[], quiet_hours[], burstiness,
 * diurnal_strength}; stored in channel_states.temporal_profile_json with
 * computed_at added, shown with intensity_now added. */
json_t *flow_temporal_json(const struct temporal_profile *p);
/* Read a stored profile back (graduated and hourly[] are required, the
 * rest is optional). False if @text is not one: the caller treats the
 * channel as having no profile. */
bool flow_temporal_parse(const char *text, struct temporal_profile *out);
json_t *flow_peer_json(const struct flow_peer *p);

/* The fee controller's time_intensity for @scid at @now from the last
 * flow run's profile (temporal_intensity_at), -1 when there is none or it
 * has not graduated. Kept in memory by the flow cycle: the fee cycle reads
 * it for every channel every run. */
double flow_time_intensity(const struct revenue *r, const char *scid,
			   uint64_t now);
/* Free struct pipeline's temporal profiles (accepts NULL). */
struct u64map;
void flow_temporal_cache_free(struct u64map *cache);

/* cycles.h body of the "flow-analysis" cycle. */
void flow_cycle_run(struct revenue *r, struct cycle *c);

#endif
