/* Flow analysis (spec §4.2): classify each channel as a source (its
 * outbound liquidity drains), a sink (it fills) or balanced, from the
 * forwards of the flow window, the local balance and, once converged, the
 * Kalman-filtered daily ratio (engine/kalman.h).
 *
 * Classification, first match wins:
 *   1. congested (HTLC slots/value, engine/congestion.h) overrides all;
 *   2. no capacity -> unknown;
 *   3. a directional ratio beyond its threshold: the Kalman ratio (per
 *      day, +-0.05, x1.5 while the fee posterior is still wide) when the
 *      filter has converged, else the window ratio (out - in) / capacity
 *      (+-0.5). A channel already on one side stays there until the ratio
 *      falls below exit_frac (0.8) of the threshold (hysteresis);
 *   4. the balance position, with hysteresis: the sink band is entered at
 *      outbound >= 0.78 and left below 0.72; the source band is entered at
 *      <= 0.22 and left above 0.28. A daily ratio beyond +-0.05 vetoes
 *      the opposite band (a draining channel is not a sink);
 *   5. otherwise balanced_active (turnover > 0.01/day), dormant (|daily
 *      ratio| < 0.01) or balanced.
 *
 * Also: adaptive EMA of daily in/out (the decay follows volatility),
 * velocity of the window ratio, a confidence in [0.1, 1], the 30-day role
 * and the floor multiplier (source 1.25, sink 0.80).
 *
 * Channels are analysed one by one (a peer with several channels has one
 * result per channel); flow_aggregate_peer() sums a peer's channels. */
#ifndef HIVE_ENGINE_FLOW_H
#define HIVE_ENGINE_FLOW_H
#include "engine/kalman.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum flow_class {
	FLOW_UNKNOWN,
	FLOW_SOURCE,
	FLOW_SINK,
	FLOW_BALANCED,
	FLOW_BALANCED_ACTIVE,
	FLOW_DORMANT,
	FLOW_CONGESTED,
	FLOW_CLASS_NUM
};

enum flow_role {
	FLOW_ROLE_DORMANT,
	FLOW_ROLE_INBOUND_GATEWAY,
	FLOW_ROLE_OUTBOUND_GATEWAY,
	FLOW_ROLE_BALANCED,
};

/* "source", "sink", "balanced", "balanced_active", "dormant",
 * "congested", "unknown" (the channel_states strings). */
const char *flow_class_name(enum flow_class c);
/* "dormant", "inbound_gateway", "outbound_gateway", "balanced". */
const char *flow_role_name(enum flow_role r);
/* balanced and balanced_active count as balanced. */
bool flow_class_is_balanced(enum flow_class c);

struct flow_params {
	double window_days;	    /* flow_window_days: 7 */
	double source_threshold;    /* window ratio: 0.5 */
	double sink_threshold;	    /* window ratio: -0.5 */
	double
	    threshold_exit_frac; /* keep a side until ratio < frac*thr: 0.8 */
	double kalman_source_per_day; /* 0.05 */
	double kalman_sink_per_day;   /* -0.05 */
	double uncertain_posterior_var; /* fee posterior var above: 10000 */
	double uncertain_threshold_mult; /* widens the Kalman thresholds: 1.5 */
	double sink_band_enter;	    /* 0.78 */
	double sink_band_exit;	    /* 0.72 */
	double source_band_enter;   /* 0.22 */
	double source_band_exit;    /* 0.28 */
	double active_turnover_per_day; /* 0.01 */
	double dormant_ratio_per_day;	/* 0.01 */
	double source_multiplier;   /* 1.25 */
	double sink_multiplier;	    /* 0.80 */
	uint32_t confidence_full_count; /* 20 */
	double recency_half_life_days;	/* 3 */
	double never_forwarded_recency; /* 0.1 */
	double ema_base_decay;	    /* 0.8 */
	double ema_min_decay;	    /* 0.65 (volatile) */
	double ema_max_decay;	    /* 0.95 (steady) */
	double ema_vol_high;	    /* 0.5 */
	double ema_vol_low;	    /* 0.1 */
	double ema_min_volume_sat;  /* 1000 */
	double velocity_min_hours;  /* 0.5 */
	double velocity_outlier_mult; /* 3 */
	double velocity_max;	    /* 0.5 */
	uint32_t role_min_forwards; /* 10 */
	double role_share;	    /* 0.70 */
	struct kalman_params kalman; /* for kalman_converged() */
};

/* The reference defaults (H thresholds for the window ratio, M values for
 * the Kalman thresholds and bands). */
void flow_params_default(struct flow_params *p);

#define FLOW_MAX_DAYS 64

/* One channel's inputs, gathered by the caller. Sat amounts are floored
 * from msat. */
struct flow_obs {
	uint64_t capacity_sat;
	uint64_t local_sat;  /* spendable (our side) */
	uint64_t in_sat;     /* window: sum of in amounts, channel as in */
	uint64_t out_sat;    /* window: sum of out amounts, channel as out */
	uint32_t in_count;   /* window forwards with the channel as in */
	uint32_t out_count;  /* ... as out */
	uint64_t last_forward_sec; /* 0: never forwarded */
	/* 30-day counts for the role (lifetime if no 30-day window). */
	uint32_t role_in_count;
	uint32_t role_out_count;
	/* Daily buckets, [0] = the most recent day, for the EMA. */
	size_t n_days;
	uint64_t daily_in_sat[FLOW_MAX_DAYS];
	uint64_t daily_out_sat[FLOW_MAX_DAYS];
	bool congested;			  /* congestion_measure() */
	const struct kalman_state *kalman; /* NULL: no filter yet */
	double fee_posterior_var;	  /* < 0: unknown */
};

/* Persisted per channel (hysteresis and velocity need the last cycle). */
struct flow_state {
	enum flow_class last_class;
	double last_ratio;
	double last_velocity;
	uint64_t last_ratio_sec; /* 0: no previous ratio */
};

/* A fresh channel: unknown class, no previous ratio. */
void flow_state_init(struct flow_state *st);

struct flow_result {
	enum flow_class cls;
	const char *basis; /* "congested", "no_capacity", "kalman", "ratio",
			    * "sink_band", "source_band", "activity" */
	double flow_ratio;	 /* (out - in) / capacity over the window */
	double daily_ratio;	 /* Kalman ratio, or flow_ratio / window days */
	bool kalman_used;
	double source_threshold; /* thresholds applied to the ratio used */
	double sink_threshold;
	double outbound_ratio;	 /* local / capacity */
	double turnover_per_day; /* (in + out) / capacity / window days */
	double daily_volume_sat; /* (in + out) / window days */
	bool vetoed;		 /* a band was vetoed by the daily ratio */
	double flow_multiplier;	 /* 1.25 source, 0.80 sink, else 1 */
	double ema_decay;
	double ema_in_sat;	 /* per day */
	double ema_out_sat;
	double volatility;	 /* std(daily net) / mean(daily volume) */
	double velocity;	 /* window ratio change per hour */
	double count_factor;
	double recency;
	double confidence;
	enum flow_role role;
};

/* Analyse one channel at @now, updating @st (hysteresis, velocity).
 * Returns NULL, or an error for impossible input (local > capacity,
 * n_days > FLOW_MAX_DAYS, non-positive window); @st is untouched then. */
const char *flow_analyze(const struct flow_params *p, struct flow_state *st,
			 const struct flow_obs *obs, uint64_t now,
			 struct flow_result *out)
	__attribute__((warn_unused_result));

struct flow_peer_result {
	size_t n_channels;
	uint64_t capacity_sat;
	uint64_t local_sat;
	uint64_t in_sat;
	uint64_t out_sat;
	uint64_t forward_count;
	double flow_ratio;     /* summed (out - in) / summed capacity */
	double outbound_ratio; /* summed local / summed capacity */
	double confidence;     /* capacity-weighted */
	size_t n_source, n_sink, n_balanced, n_congested;
	enum flow_class cls;   /* congested only if every channel is */
	double flow_multiplier;
};

/* Aggregate one peer's channels: @obs[i] and @res[i] describe channel i
 * (results from flow_analyze). The peer class applies the same thresholds
 * to the sums without hysteresis. Returns NULL, or an error (n == 0,
 * overflow of a sum). */
const char *flow_aggregate_peer(const struct flow_params *p,
				const struct flow_obs *obs,
				const struct flow_result *res, size_t n,
				struct flow_peer_result *out)
	__attribute__((warn_unused_result));

#endif
