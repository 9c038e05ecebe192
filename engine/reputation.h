/* Peer reputation (spec §4.4) and peer uptime / flap protection (§4.5).
 *
 * Reputation: each peer has success and failure counts from forwards that
 * entered through it; the score is the Laplace-smoothed success rate
 * (s + 1) / (s + f + 2), 0.5 with no evidence. Counts are REAL and decay
 * by elapsed time (decay^(dt / interval), 0.98 per hour by default), so a
 * low-traffic peer keeps fractional evidence and the half-life does not
 * depend on how often a cycle runs (spec §7 defects 1 and 2). Decay is
 * lazy: applying it is idempotent in time, so reading twice or running an
 * extra analysis cannot age the counts twice.
 *
 * Uptime: the fraction of a window a peer was connected, computed from the
 * connect/disconnect history the caller keeps. The caller must keep at
 * least the last event per peer when it prunes, and a peer with no history
 * that is not connected now is down, not 100 % up (defect 33). */
#ifndef HIVE_ENGINE_REPUTATION_H
#define HIVE_ENGINE_REPUTATION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reputation_params {
	double decay;		     /* per decay_interval: 0.98 */
	uint64_t decay_interval_sec; /* 3600 */
	double prune_epsilon;	     /* forget a peer below this: 0.01 */
};

/* 0.98 per hour, prune below 0.01. */
void reputation_params_default(struct reputation_params *p);

/* Persisted per peer. The counts are as of last_update_sec. */
struct reputation_state {
	double successes;
	double failures;
	uint64_t last_update_sec;
};

/* No evidence, as of @now. */
void reputation_init(struct reputation_state *st, uint64_t now);

/* Age the counts to @now (no-op if @now is not after last_update_sec, so
 * a clock step backwards never inflates them). */
void reputation_decay_to(const struct reputation_params *p,
			 struct reputation_state *st, uint64_t now);

/* Decay to @now, then count one forward outcome. */
void reputation_record(const struct reputation_params *p,
		       struct reputation_state *st, bool success,
		       uint64_t now);

/* Laplace-smoothed score in (0, 1) as of @now; @st NULL (no row) gives
 * 0.5. Does not modify @st. */
double reputation_score(const struct reputation_params *p,
			const struct reputation_state *st, uint64_t now);

/* True when both decayed counts are below prune_epsilon: the row carries
 * no information and may be deleted. */
bool reputation_prunable(const struct reputation_params *p,
			 const struct reputation_state *st, uint64_t now);

enum reputation_conn_event_type {
	REPUTATION_CONNECTED,
	REPUTATION_DISCONNECTED,
	REPUTATION_SNAPSHOT, /* "seen connected" baseline: counts as up */
};

struct reputation_conn_event {
	enum reputation_conn_event_type type;
	uint64_t time_sec;
};

struct reputation_uptime {
	double uptime_pct;   /* [0, 100] */
	double up_sec;	     /* connected seconds inside the span */
	double span_sec;     /* effective span measured */
	unsigned disconnects; /* disconnect events inside the window (flaps) */
	const char *basis;   /* "events", "no_history", "short_span" */
};

/* Uptime over [window_start, now] from @events (sorted by time, oldest
 * first; events before the window are allowed and the last of them sets
 * the state at the window start). Without any event the peer is up iff
 * @connected_now. Without an event before the window the span starts at
 * the first event. A span under 60 s reports the state at @now (100 or
 * 0). Returns NULL or an error (unsorted events, window_start > now). */
const char *reputation_uptime(const struct reputation_conn_event *events,
			      size_t n_events, bool connected_now,
			      uint64_t window_start, uint64_t now,
			      struct reputation_uptime *out)
	__attribute__((warn_unused_result));

/* Flap protection factor for volume-based signals: uptime_pct / 100,
 * clamped to [0, 1]. */
double reputation_flap_factor(double uptime_pct);

/* The rebalancer's stability gate: uptime at least @min_pct (90). */
bool reputation_uptime_stable(double uptime_pct, double min_pct);

#endif
