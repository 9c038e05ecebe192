/* HTLC-slot congestion (spec §4.9) and HTLC-slot scarcity (§4.6.9).
 *
 * A channel offers a fixed number of HTLC slots (max_accepted_htlcs, 483
 * by default) and a cap on value in flight. Counting slots alone misses a
 * channel tied up by a few large HTLCs, so utilisation is value-weighted:
 *
 *   slot_util   = active HTLCs / max slots
 *   value_util  = max( sum of per-HTLC weights / max slots,
 *                      value in flight / max value in flight )
 *                 where an HTLC's weight is amount / 100,000 sat clamped
 *                 to [0.01, 10] (the reference's slot weight)
 *   utilisation = max(slot_util, value_util)
 *
 * congested = utilisation > threshold (0.8). The fee controller keeps an
 * asymmetric EMA of the utilisation (fast up, slow down) and prices slot
 * scarcity above the configured scarcity threshold (the reference
 * hard-coded 0.35 here, defect 11). */
#ifndef HIVE_ENGINE_CONGESTION_H
#define HIVE_ENGINE_CONGESTION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct congestion_params {
	double threshold;	    /* congested above this: 0.8 */
	uint32_t default_max_htlcs; /* when the channel reports 0: 483 */
	uint64_t weight_unit_msat;  /* amount of one full slot: 100,000,000 */
	double weight_min;	    /* 0.01 */
	double weight_max;	    /* 10 */
	double ema_alpha_up;	    /* 0.4 */
	double ema_alpha_down;	    /* 0.1 */
	double scarcity_threshold;  /* scarcity pricing starts above: 0.35 */
	double scarcity_max_extra;  /* multiplier tops out at 1 + this: 2 */
	double rebalance_guard_util; /* rebalance blocked above: 0.6 */
};

/* The reference constants above. */
void congestion_params_default(struct congestion_params *p);

/* What listpeerchannels tells about one channel. The HTLC amounts are
 * borrowed for the call (the outgoing HTLCs are the live signal the
 * reference prefers; pass all if direction is unknown). */
struct congestion_obs {
	uint32_t n_htlcs;	     /* active HTLCs */
	uint32_t max_accepted_htlcs; /* 0: use the default */
	const uint64_t *htlc_amounts_msat; /* may be NULL */
	size_t n_amounts;
	uint64_t in_flight_msat;     /* 0 if unknown */
	uint64_t max_in_flight_msat; /* 0: no value cap known */
};

struct congestion_result {
	uint32_t max_htlcs;   /* slots used as the denominator */
	double slot_util;
	double weighted_util; /* sum of weights / slots, capped at 1 */
	double inflight_util; /* in flight / cap, capped at 1 (0: no cap) */
	double value_util;    /* max(weighted, inflight) */
	double util;	      /* max(slot, value) */
	bool congested;
};

/* Measure one channel. Returns NULL, or an error if n_amounts > 0 with a
 * NULL array. */
const char *congestion_measure(const struct congestion_params *p,
			       const struct congestion_obs *obs,
			       struct congestion_result *out)
	__attribute__((warn_unused_result));

/* Next value of the utilisation EMA: alpha_up when @util rises above
 * @prev_ema, alpha_down when it falls. Non-finite input keeps @prev_ema. */
double congestion_ema_update(const struct congestion_params *p,
			     double prev_ema, double util);

/* Slot-scarcity fee multiplier for an EMA: 1 at or below the scarcity
 * threshold, then 1 + ((ema - thr) / (1 - thr))^2 * max_extra (3x at a
 * full channel with the defaults). */
double congestion_scarcity_multiplier(const struct congestion_params *p,
				      double ema);

/* Would adding an HTLC of @amount_msat push the weighted slot use above
 * rebalance_guard_util? Writes the weighted utilisation after the add to
 * *util_after if non-NULL. Fails open (false) on bad input. */
bool congestion_rebalance_blocked(const struct congestion_params *p,
				  const struct congestion_obs *obs,
				  uint64_t amount_msat, double *util_after);

#endif
