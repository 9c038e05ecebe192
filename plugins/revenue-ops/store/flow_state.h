/* What the flow analysis persists (tables channel_states, kalman_state,
 * peer_flow_states of migration 3, and the temporal profile column of
 * migration 6): each channel's class, window sums, hysteresis state and
 * Kalman filter, and the summed view of peers with several channels. The
 * flow cycle (cycle/flow.h) computes a struct flow_run and writes it here;
 * the fee cycle and the reports read it back. Reads never write. */
#ifndef HIVE_REVENUE_OPS_FLOW_STATE_H
#define HIVE_REVENUE_OPS_FLOW_STATE_H
#include "engine/congestion.h"
#include "engine/flow.h"
#include "engine/kalman.h"
#include "engine/temporal.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chan_info;
struct fwd_chan_stats;
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

/* One channel's analysis: what flow_persist stores. */
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

void flow_run_free(struct flow_run *run);

/* Persist channel_states, kalman_state and peer_flow_states of @run, in
 * the caller's transaction. */
bool flow_persist(struct revenue *r, const struct flow_run *run, uint64_t now,
		  char **err) __attribute__((warn_unused_result));

/* The stored hysteresis state and Kalman filter of @scid (fresh ones,
 * from @kp, when none is stored). */
bool flow_state_load(struct revenue *r, const struct kalman_params *kp,
		     const char *scid, struct flow_state *fst,
		     struct kalman_state *ks, char **err)
    __attribute__((warn_unused_result));

/* The last analysis of @scid: its class and window sums (*found false
 * and FLOW_UNKNOWN when it has none). */
bool flow_state_class(struct revenue *r, const char *scid,
		      enum flow_class *cls, uint64_t *in_sat, uint64_t *out_sat,
		      bool *found, char **err)
    __attribute__((warn_unused_result));

/* The Kalman filter's last innovation and its variance for @scid (the
 * other fields of @ks zero; *found false when it has none). */
bool flow_state_innovation(struct revenue *r, const char *scid,
			   struct kalman_state *ks, bool *found, char **err)
    __attribute__((warn_unused_result));

/* Every channel_states row as revenue-status shows it, with its stored
 * temporal profile and the time intensity it gives at @now (new
 * reference; empty on a database error). */
json_t *flow_channel_states_json(struct revenue *r, uint64_t now);

/* {channel_id, state, flow_ratio, updated_at} of @scid, or null when it
 * has no analysis (or the table does not exist yet). New reference. */
json_t *flow_state_brief_json(struct revenue *r, const char *scid);

/* A temporal profile as JSON (new reference): {graduated, days,
 * forwards_per_day, hourly[24], peak_hours[], quiet_hours[], burstiness,
 * diurnal_strength}; stored in channel_states.temporal_profile_json with
 * computed_at added, shown with intensity_now added. */
json_t *flow_temporal_json(const struct temporal_profile *p);
/* Read a stored profile back (graduated and hourly[] are required, the
 * rest is optional). False if @text is not one: the caller treats the
 * channel as having no profile. */
bool flow_temporal_parse(const char *text, struct temporal_profile *out);
#endif
