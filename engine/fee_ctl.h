/* The fee controller (spec §4.6, the reference's "H" line: Gaussian
 * Thompson sampling with contexts + AIMD, inside a strict priority order
 * of policy, safety and emergency rules).
 *
 * One call decides one channel for one cycle:
 *
 *   fee_ctl_step(params, state, obs, now, rng, decision)
 *
 * The steps, in priority order (struct fee_ctl_decision records each one:
 * reached or not, applied or not, its reason code and every number used),
 * each with the file that implements it. fee_ctl_order.c runs the order
 * and holds its first two steps (its tests: engine/test/run-fee_ctl.c);
 * the others live in four rooms, each with its table tests in
 * engine/test/run-<file>.c:
 *
 *   fee_ctl_bounds.c     floors and ceilings: BOUNDS, COLD_START, SCARCITY
 *   fee_ctl_emergency.c  emergency rules: VEGAS, CONGESTION, PROBE,
 *                        FIRE_SALE
 *   fee_ctl_learn.c      learning: the observation window, the posterior,
 *                        AIMD and THOMPSON
 *   fee_ctl_guard.c      hysteresis and idempotency: MIN_CHANGE,
 *                        HYSTERESIS, IDEMPOTENT, REFRESH
 *
 * fee_ctl_state.c seeds, adopts and (de)serialises the persisted state;
 * fee_ctl.c holds the defaults and the names.
 *
 *   POLICY      (fee_ctl_order.c) passive: stop. static: the policy target.
 *               hive: hive_fee. Policy fees are exact: not clamped into
 *               [min, max], not guarded, not damped (only the absolute rails
 *               0..100,000).
 *   EXTERNAL    (fee_ctl_order.c) the live fee differs from the fee we last
 *               set (CLBOSS or the operator changed it): adopt it, then hold
 *               off for external_hold_sec instead of fighting.
 *   BOUNDS      (fee_ctl_bounds.c) floor = max(min term, chain-cost floor x
 *               flow multiplier x HTLC-hold premium x liquidity-bucket
 *               multiplier, rebalance-cost floor, balance floor); ceiling =
 *               max_fee, lowered for long-idle expensive channels; policy
 *               multipliers around a dynamic target replace both.
 *   CONGESTION  (fee_ctl_emergency.c) HTLC slots/value congested: raise in a
 *               bounded episode (per cycle min(ceiling, max(2x, +250)), at most
 *               4x the entry fee), held for 2 quiet cycles after it clears.
 *   VEGAS       (fee_ctl_emergency.c) mempool spike: intensity (decay first,
 *               then the spike check; the early trigger draws from @rng)
 *               multiplies the floor by 1 + 2 sqrt(intensity). While active it
 *               defers the zero-fee probe and the fire sale.
 *   PROBE       (fee_ctl_emergency.c) zero-fee "defibrillator" for an idle
 *               channel before it can be judged a zombie: 0 ppm for up to 24 h;
 *               any forward ends it (success) and normal pricing resumes.
 *   FIRE_SALE   (fee_ctl_emergency.c) opt-in: 1 ppm for old zombie / deeply
 *               underwater channels, cancelled by the momentum guard
 *               (recovering channels).
 *   THOMPSON    (fee_ctl_learn.c) sample the fee from the channel's Gaussian
 *               posterior over the revenue-maximising fee, shifted by the
 *               balance/time context's bounded offset; blended toward the
 *               operator's fee anchor while one is active; AIMD multiplier
 *               while defending; profitability adjustment; per-cycle damping.
 *   COLD_START  (fee_ctl_bounds.c) fewer than 5 forwards ever: fee <= floor +
 *               50 and the ceiling <= max(100, floor + 50).
 *   SCARCITY    (fee_ctl_bounds.c) depleted outbound (below scarcity_threshold)
 *               and HTLC-slot scarcity multiply the fee, except for a virgin
 *               channel (the peer opened it and it never routed); then the
 *               final clamp to [floor, ceiling].
 *   MIN_CHANGE  (fee_ctl_guard.c) drop a change below 1 ppm (fee < 100) or
 *               max(5 ppm, 3 %).
 *   HYSTERESIS  (fee_ctl_guard.c) broadcast only beyond 5 % of the last
 *               broadcast fee, or at a fee <= 1, or when the coarse decision
 *               class changes (normal / congestion / probe / fire sale /
 *               policy): a critical state's exit always broadcasts.
 *   IDEMPOTENT  (fee_ctl_guard.c) nothing changes: "no change", no RPC.
 *   REFRESH     (fee_ctl_guard.c) a dynamic channel that has not broadcast for
 *               24 h gets a +-1 ppm nudge so its channel_update stays fresh.
 *
 * The observation window: the caller sums the channel's outgoing forwards
 * over [state.last_update_sec, now] into obs.win_* (everything, if
 * last_update_sec is 0). Revenue is that volume, weighted by the peer's
 * reputation and uptime, times the fee then in force, per hour. The
 * window is ready after 1 h with 3 forwards, or after 6 h regardless
 * (before that the learner holds: waiting_time / waiting_forwards). It
 * closes (observation recorded, last_update reset) when the fee is set
 * or found unchanged; a suppressed change (min-change guard, hysteresis)
 * keeps it open so the evidence accumulates. Windows spent at a probe or
 * fire-sale fee are not learned from.
 *
 * Every random draw uses the @rng passed in; nothing reads a clock. */
#ifndef HIVE_ENGINE_FEE_CTL_H
#define HIVE_ENGINE_FEE_CTL_H
#include "common/rng.h"
#include "engine/congestion.h"
#include "engine/flow.h"
#include "engine/pnl.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fee_ctl_strategy {
	FEE_CTL_DYNAMIC,
	FEE_CTL_STATIC,
	FEE_CTL_PASSIVE,
	FEE_CTL_HIVE,
};

/* "dynamic", "static", "passive", "hive". */
const char *fee_ctl_strategy_name(enum fee_ctl_strategy s);

struct fee_ctl_params {
	/* Rails. */
	int64_t min_fee_ppm;		/* 10 */
	int64_t max_fee_ppm;		/* 5000 */
	int64_t abs_max_fee_ppm; /* 100,000: even policy fees stay below */
	int64_t min_fee_ppm_saturated;	/* 0: off; else the min term for
					 * saturated or source channels */
	double saturated_outbound_ratio; /* 0.85 */
	double balanced_router_max_imbalance; /* |out-in|/(out+in): 0.33 */
	double balanced_router_min_turnover;  /* (in+out)/capacity: 0.25 */
	int64_t base_fee_msat;		/* -1: keep each channel's base fee */
	int64_t hive_fee_ppm;		/* 0 */

	/* Chain-cost (economic) floor. */
	int64_t default_open_cost_sat;	/* 5000 (no feerate known) */
	int64_t default_close_cost_sat; /* 3000 */
	double open_vbytes;		/* 140 */
	double close_vbytes;		/* 200 */
	int64_t open_cost_min_sat, open_cost_max_sat;	/* 500, 50,000 */
	int64_t close_cost_min_sat, close_cost_max_sat; /* 300, 50,000 */
	double lifetime_days;		/* 365 */
	double amortise_daily_volume_sat; /* 1,000,000 */
	double amortise_capacity_turnover; /* 0: off; else the daily volume
					    * is capacity x this */
	double force_close_probability; /* 0.001 */
	double force_close_vbytes;	/* 150 */
	double reference_htlc_sat;	/* 50,000 */
	double hold_avg_sec;		/* peer HTLC hold average above: 10 */
	double hold_std_sec;		/* ... or deviation above: 5 */
	double hold_premium;		/* 1.2 */
	/* Balance floors (outbound ratio below -> at least ppm). */
	double very_low_balance_ratio;	/* 0.10 */
	int64_t very_low_balance_floor_ppm; /* 500 */
	double low_balance_ratio;	/* 0.25 */
	int64_t low_balance_floor_ppm;	/* 200 */
	double max_floor_multiplier;	/* liquidity-bucket cap: 3.0 */
	/* Rebalance-cost floor. */
	uint32_t rebalance_floor_min_samples; /* 3 */
	double rebalance_floor_margin;	/* 1.20 */
	int64_t rebalance_floor_cap_ppm; /* 5000 */
	/* Ceiling. */
	int64_t protective_ceiling_headroom_ppm; /* floor above ceiling: +100 */
	int64_t idle_ceiling_min_fee_ppm; /* only at or above: 500 */
	uint32_t idle_ceiling_days_1;	/* 3 -> x0.75 */
	uint32_t idle_ceiling_days_2;	/* 7 -> x0.5 */
	double policy_mult_min_default; /* 0.1 */
	double policy_mult_max_default; /* 5.0 */

	/* Congestion episodes. */
	struct congestion_params congestion; /* EMA alphas, slot weights */
	double congestion_step_mult;	/* 2 */
	int64_t congestion_step_ppm;	/* 250 */
	double congestion_episode_mult; /* 4 */
	uint32_t congestion_quiet_cycles; /* 2 */

	/* Vegas reflex. */
	bool vegas_enabled;		/* true */
	double vegas_decay;		/* 0.85 per cycle */
	uint64_t vegas_cycle_sec;	/* fee_interval: 1800 */

	/* Zero-fee probe. */
	bool probe_enabled;		/* true */
	uint32_t probe_idle_days;	/* 7 */
	uint64_t probe_max_age_sec;	/* 86400 */
	uint32_t probe_max_attempts;	/* 2 */
	uint64_t probe_cooldown_sec;	/* 7 days */
	double probe_min_outbound_ratio; /* 0.05 */

	/* Fire sale. */
	bool fire_sale_enabled;		/* false (opt-in) */
	uint32_t fire_sale_min_days_open; /* 90 */
	double fire_sale_underwater_roi; /* -0.5 */
	double momentum_marginal_roi;	/* 0.05 */
	uint32_t momentum_max_days_open; /* 180 */
	int64_t fire_sale_fee_ppm;	/* 1 */

	/* Thompson sampling. */
	double prior_mean_ppm;		/* 200, when nothing better is known */
	double prior_std_ppm;		/* 100 */
	double prior_weight;		/* pseudo-observations: 1.0 */
	double decay_hours;		/* observation half-life: 168 */
	uint32_t max_observations;	/* 200 (<= FEE_CTL_MAX_OBS) */
	uint32_t min_observations;	/* 3 */
	double min_std_ppm;		/* 10 */
	double cold_prior_std_mult;	/* 1.5 */
	double regime_explore_mult;	/* 1.5 */
	double revenue_weight_power;	/* 3 */
	double revenue_weight_cap;	/* 8 */
	uint32_t context_min_count;	/* own observations to use one: 3 */
	double context_offset_cap;	/* |offset| <= this x mean: 0.20 */
	uint64_t min_observation_sec;	/* 3600 */
	uint64_t max_observation_sec;	/* 6 h: closes without 3 forwards */
	uint32_t min_forwards_for_signal; /* 3 */
	double full_weight_hours;	/* 6 */
	double ema_alpha;		/* 0.3 */
	double damp_ratio;		/* per-cycle move: 0.25 of current */
	int64_t damp_min_ppm;		/* ... or at least 25 ppm */
	bool reputation_enabled;	/* true */

	/* AIMD defence. */
	uint32_t aimd_failure_threshold; /* 3 */
	uint32_t aimd_success_threshold; /* 10 */
	double aimd_decrease;		/* 0.85 */
	double aimd_min_modifier;	/* 0.5 */
	int64_t aimd_increase_ppm;	/* +5 ppm per success batch */
	uint64_t aimd_min_decrease_interval_sec; /* 3600 */

	/* Profitability adjustment thresholds (pnl_fee_adjustment). */
	struct pnl_params pnl;

	/* Cold start. */
	uint32_t cold_start_forwards;	/* 5 */
	int64_t cold_start_headroom_ppm; /* 50 */
	int64_t cold_start_ceiling_min_ppm; /* 100 */

	/* Scarcity. */
	bool scarcity_enabled;		/* true */
	double scarcity_threshold;	/* 0.35 (both kinds, defect 11) */
	double scarcity_max_mult;	/* 3 */
	/* Liquidity credit: a forward out of channel B that came in through
	 * a depleted channel A refilled A, whose liquidity sells at A's fee;
	 * B's learner counts liquidity_credit_weight x that value on top of
	 * B's own fee, scaled from 0 at an outbound ratio of
	 * liquidity_credit_ratio to 1 at an empty A. 0: off. */
	double liquidity_credit_weight; /* 0.5 */
	double liquidity_credit_ratio;	/* 0.5 */

	/* Guards. */
	int64_t min_change_low_fee_ppm; /* below: 1 ppm suffices: 100 */
	int64_t min_change_ppm;		/* 5 */
	double min_change_ratio;	/* 0.03 */
	double gossip_hysteresis_pct;	/* 0.05 */
	uint64_t gossip_refresh_sec;	/* 86400; 0: off */
	uint64_t external_hold_sec;	/* 86400 */
};

/* Fill @p with the defaults above. */
void fee_ctl_params_default(struct fee_ctl_params *p);

/* What one sat of liquidity returned to a channel is worth (ppm) for the
 * liquidity credit: its fee x weight x how depleted it is (0 at or above
 * liquidity_credit_ratio, 1 when empty). 0 for a channel without
 * capacity. */
double fee_ctl_liquidity_value_ppm(const struct fee_ctl_params *p,
				   int64_t fee_ppm, uint64_t local_sat,
				   uint64_t capacity_sat);

/* A peer policy, as the policy store holds it. */
struct fee_ctl_policy {
	enum fee_ctl_strategy strategy;
	int64_t fee_ppm_target;	   /* -1: none */
	double fee_multiplier_min; /* 0: default (0.1) */
	double fee_multiplier_max; /* 0: default (5.0) */
};

/* Everything the controller observes about one channel this cycle. Unless
 * noted, amounts are floored msat -> sat and times are unix seconds. */
struct fee_ctl_obs {
	uint64_t capacity_sat;	  /* > 0 */
	uint64_t local_sat;	  /* spendable, <= capacity */
	enum pnl_opener opener;
	uint64_t opened_sec;
	int64_t chain_fee_ppm;	  /* live fee read back from lightningd */
	int64_t chain_base_msat;
	struct fee_ctl_policy policy;

	/* Flow (engine/flow.h). */
	enum flow_class flow_class;
	uint64_t window_in_sat;	  /* the flow window's sums */
	uint64_t window_out_sat;
	uint64_t last_forward_sec;   /* as out channel; 0: never */
	uint64_t total_forward_count; /* lifetime, either direction */
	uint64_t lifetime_out_count;  /* lifetime, as out channel */

	/* Since state.last_update_sec (the observation window). */
	uint64_t win_out_msat;	  /* volume forwarded out */
	uint32_t win_forwards;	  /* settled forwards out */
	uint32_t win_fee_failures; /* fee-insufficient failures out */
	/* What those forwards' incoming channels were worth refilled:
	 * sum of out_msat x fee_ctl_liquidity_value_ppm(in channel) / 1e6. */
	uint64_t win_in_credit_msat;

	/* Peer. */
	double peer_reputation;	  /* 0..1; < 0: unknown (no weighting) */
	double peer_uptime_pct;	  /* 0..100 over 24 h; < 0: unknown */
	double peer_hold_avg_sec; /* HTLC resolution time; < 0: unknown */
	double peer_hold_std_sec;

	/* Profitability (engine/pnl.h). */
	bool pnl_known;
	enum pnl_class pnl_class;
	double roi;
	double marginal_roi;

	/* Chain. */
	double feerate_perkb;	  /* opening feerate, sat/kvB; 0: unknown */
	double mempool_satvb;	  /* latest sample */
	double mempool_ma_satvb;  /* 24 h moving average */
	uint64_t mempool_sample_sec; /* 0: no sample */

	/* Congestion (engine/congestion.h). */
	bool congested;
	double htlc_util;	  /* value-weighted utilisation */

	/* Rebalances into this channel over 30 days. */
	int64_t rebalance_cost_30d_msat;
	int64_t rebalance_amount_30d_msat;
	uint32_t rebalance_samples_30d;

	/* Learning context. */
	double time_intensity;	  /* 0..1: this UTC hour in the channel's
				   * temporal profile (engine/temporal.h);
				   * < 0: unknown (the normal bucket) */
	bool regime_change;	  /* Kalman (engine/kalman.h) */
	int64_t prior_hint_ppm;	  /* neighbour median for a fresh state; -1 */

	/* The operator's fee anchor (revenue-fee-anchor). While
	 * now < anchor_expires_sec the THOMPSON sample is blended toward
	 * the target: w = anchor_base_weight x anchor_confidence,
	 * fee = w x target + (1 - w) x sample. Nothing else changes: a
	 * policy, the external hold, congestion, probe and fire sale still
	 * pre-empt it, and AIMD, the profit adjustment, damping, cold start,
	 * scarcity and [floor, ceiling] still apply to the blended fee. */
	int64_t anchor_target_ppm; /* -1: no anchor; else 0..abs_max */
	double anchor_confidence;  /* 0..1 */
	double anchor_base_weight; /* 0..1 */
	uint64_t anchor_expires_sec;
};

/* Fill @o with neutral values: unknown reputation/uptime/hold/time, no
 * mempool sample, no target, no anchor, opener unknown, prior hint -1.
 * The caller then sets what it knows. */
void fee_ctl_obs_init(struct fee_ctl_obs *o);

#define FEE_CTL_MAX_OBS 500
#define FEE_CTL_BALANCE_BUCKETS 5
#define FEE_CTL_TIME_BUCKETS 3
#define FEE_CTL_NUM_CTX (FEE_CTL_BALANCE_BUCKETS * FEE_CTL_TIME_BUCKETS)
#define FEE_CTL_STATE_VERSION 1

enum fee_ctl_class {
	FEE_CLASS_NONE, /* nothing broadcast yet */
	FEE_CLASS_NORMAL,
	FEE_CLASS_CONGESTION,
	FEE_CLASS_PROBE,
	FEE_CLASS_FIRE_SALE,
	FEE_CLASS_POLICY,
	FEE_CLASS_EXTERNAL,
};

/* "none", "normal", "congestion", "probe", "fire_sale", "policy",
 * "external". */
const char *fee_ctl_class_name(enum fee_ctl_class c);

/* One revenue observation: the fee in force over a window and the revenue
 * rate it earned (sat per hour, volume weighted by peer reputation and
 * uptime). */
struct fee_ctl_obs_rec {
	double fee_ppm;
	double revenue_sat_per_hour;
	double weight;	 /* window length: min(1, hours / 6) */
	double time_sec; /* window end */
	double context;	 /* fee_ctl_context_index() of the window */
};

/* The learned per-channel state the caller persists. Plain numbers only.
 * Keyed by channel: a splice keeps it (only the capacity changes).
 *
 * fee_ctl_state_serialise() writes it as a flat array of doubles
 * (integers are exact), version 1 layout:
 *   [0] version             [1] last_set_fee_ppm   [2] last_set_base_msat
 *   [3] last_broadcast_sec  [4] last_update_sec    [5] last_class
 *   [6] pending_target_ppm  [7] refresh_dir        [8] external_adopted_sec
 *   [9] prior_mean_ppm      [10] prior_std_ppm
 *   [11] ema_revenue_sat_per_hour
 *   [12] aimd_modifier      [13] aimd_active       [14] aimd_failures
 *   [15] aimd_successes     [16] aimd_seen_failures
 *   [17] aimd_seen_forwards [18] aimd_last_decrease_sec
 *   [19] vegas_intensity    [20] vegas_consecutive
 *   [21] vegas_last_sample_sec                     [22] vegas_decayed_sec
 *   [23] congestion_active  [24] congestion_entry_fee_ppm
 *   [25] congestion_quiet   [26] htlc_util_ema
 *   [27] probe_started_sec  [28] probe_attempts    [29] probe_last_end_sec
 *   [30] probe_success_sec  [31] n_obs
 *   then n_obs x {fee_ppm, revenue_sat_per_hour, weight, time_sec,
 *   context}, oldest first: 32 + 5 n_obs numbers in all. A new layout
 *   bumps FEE_CTL_STATE_VERSION. */
struct fee_ctl_state {
	uint32_t version;	     /* FEE_CTL_STATE_VERSION; 0: fresh */
	int64_t last_set_fee_ppm;    /* fee we last set; -1: none */
	int64_t last_set_base_msat;  /* -1: none */
	uint64_t last_broadcast_sec; /* our last channel_update */
	uint64_t last_update_sec;    /* observation window start; 0: none */
	uint32_t last_class;	     /* enum fee_ctl_class */
	int64_t pending_target_ppm;  /* suppressed by hysteresis; -1 */
	int32_t refresh_dir;	     /* next refresh nudge: +1 or -1 */
	uint64_t external_adopted_sec; /* 0: never */

	double prior_mean_ppm;
	double prior_std_ppm;
	double ema_revenue_sat_per_hour;
	uint32_t n_obs;		     /* valid entries in obs[] */
	uint32_t obs_head;	     /* next slot to write (ring) */
	struct fee_ctl_obs_rec obs[FEE_CTL_MAX_OBS];

	double aimd_modifier;	     /* (0.5..1], 1: not defending */
	uint32_t aimd_active;
	uint32_t aimd_failures;	     /* since the last decrease */
	uint32_t aimd_successes;     /* since the last increase */
	uint32_t aimd_seen_failures; /* already counted in this window */
	uint32_t aimd_seen_forwards;
	uint64_t aimd_last_decrease_sec;

	double vegas_intensity;
	uint32_t vegas_consecutive;
	uint64_t vegas_last_sample_sec;
	uint64_t vegas_decayed_sec;

	uint32_t congestion_active;
	int64_t congestion_entry_fee_ppm;
	uint32_t congestion_quiet;
	double htlc_util_ema;

	uint64_t probe_started_sec;  /* 0: no probe running */
	uint32_t probe_attempts;     /* probes ever started */
	uint64_t probe_last_end_sec;
	uint64_t probe_success_sec;  /* 0: none succeeded */
};

/* Seed a fresh state: the prior mean is @prior_fee_ppm when >= 0 (the
 * neighbours' fee or the channel's current fee), so the first cycles
 * sample around the evidence instead of a fixed default (defect 14);
 * otherwise params.prior_mean_ppm. fee_ctl_step() does this itself for a
 * zeroed state (version 0), from obs.prior_hint_ppm, else the live fee
 * unless that is Core Lightning's stock 1000 msat + 10 ppm
 * (engine/market.h), else the default. */
void fee_ctl_state_init(const struct fee_ctl_params *p,
			struct fee_ctl_state *st, int64_t prior_fee_ppm);

/* Take @fee_ppm / @base_msat, set at @now by someone other than the
 * controller (the operator through revenue-set-fee, CLBOSS, another
 * tool), as the channel's fee: a new observation window starts and the
 * controller holds the fee for external_hold_sec instead of fighting it.
 * fee_ctl_step() does this itself when it finds the live fee changed; the
 * caller uses it when it made the change on the operator's behalf. */
void fee_ctl_state_adopt(struct fee_ctl_state *st, int64_t fee_ppm,
			 int64_t base_msat, uint64_t now);

/* Number of doubles fee_ctl_state_serialise() needs for @st. */
size_t fee_ctl_state_serialised_len(const struct fee_ctl_state *st);
#define FEE_CTL_STATE_HEADER_LEN 32
#define FEE_CTL_STATE_MAX_LEN (FEE_CTL_STATE_HEADER_LEN + 5 * FEE_CTL_MAX_OBS)

/* Write @st as a flat array of numbers (integers are exact in a double)
 * into @out (capacity @cap). Returns the count written, or 0 if @cap is
 * too small. The first number is the version. */
size_t fee_ctl_state_serialise(const struct fee_ctl_state *st, double *out,
			       size_t cap);

/* Read a serialised state. Returns NULL, or an error (unknown version,
 * wrong length, non-finite or out-of-range value); @st is unchanged on
 * error. */
const char *fee_ctl_state_deserialise(struct fee_ctl_state *st,
				      const double *in, size_t n)
	__attribute__((warn_unused_result));

enum fee_ctl_step_id {
	FEE_STEP_POLICY,
	FEE_STEP_EXTERNAL,
	FEE_STEP_BOUNDS,
	FEE_STEP_CONGESTION,
	FEE_STEP_VEGAS,
	FEE_STEP_PROBE,
	FEE_STEP_FIRE_SALE,
	FEE_STEP_THOMPSON,
	FEE_STEP_COLD_START,
	FEE_STEP_SCARCITY,
	FEE_STEP_MIN_CHANGE,
	FEE_STEP_HYSTERESIS,
	FEE_STEP_IDEMPOTENT,
	FEE_STEP_REFRESH,
	FEE_STEP_NUM
};

/* "policy", "external", "bounds", ... (lower-case step names). */
const char *fee_ctl_step_name(enum fee_ctl_step_id s);

#define FEE_CTL_MAX_NUMS 32

struct fee_ctl_num {
	const char *name; /* static string */
	double value;
};

struct fee_ctl_step_rec {
	bool evaluated;	     /* reached */
	bool applied;	     /* it changed or decided the fee */
	const char *reason;  /* static reason code */
	int64_t fee_in_ppm;  /* candidate fee entering the step */
	int64_t fee_out_ppm; /* ... and leaving it */
	enum fee_ctl_step_id preempted_by; /* when !evaluated */
	size_t n_nums;
	struct fee_ctl_num nums[FEE_CTL_MAX_NUMS];
};

enum fee_ctl_action {
	FEE_CTL_NO_CHANGE,	 /* no RPC */
	FEE_CTL_SET,		 /* setchannel fee_ppm / base_fee_msat */
	FEE_CTL_ADOPT_EXTERNAL,	 /* no RPC: the live fee is now ours */
};

/* "no_change", "set", "adopt_external". */
const char *fee_ctl_action_name(enum fee_ctl_action a);

struct fee_ctl_decision {
	enum fee_ctl_action action;
	enum fee_ctl_class cls;
	int64_t current_fee_ppm;
	int64_t fee_ppm;	/* to set (== current unless SET) */
	int64_t base_fee_msat;	/* to set: params base, or the live base */
	bool enforce_limits;	/* false for policy, probe, fire sale */
	int64_t floor_ppm;	/* 0 / 0 when bounds were not computed */
	int64_t ceiling_ppm;
	enum fee_ctl_step_id decided_by;
	const char *reason;	 /* reason code of decided_by */
	const char *skip_reason; /* NULL when set or adopted; else one of
				  * policy_passive, policy_static,
				  * policy_hive, external_hold,
				  * waiting_time, waiting_forwards,
				  * fee_unchanged, gossip_hysteresis,
				  * idempotent */
	const char *aimd_event;	 /* aimd_decrease, aimd_increase,
				  * aimd_recovered, aimd_defending,
				  * aimd_idle; NULL if not reached */
	bool observation_recorded;
	struct fee_ctl_obs_rec observation; /* when recorded */
	/* When this decision created the channel's state: the prior mean it
	 * starts learning from, and why ("neighbour_median", "live_fee" or
	 * "default"); seed_from NULL otherwise. */
	const char *seed_from;
	double seed_prior_ppm;
	struct fee_ctl_step_rec steps[FEE_STEP_NUM];
};

/* Decide one channel's fee at @now. Reads @p and @obs, updates @st in
 * place (the state to persist if the decision is carried out; a caller
 * whose setchannel fails should keep the copy it had before the call) and
 * fills @d (never NULL). Random draws (Thompson sample, Vegas early
 * trigger) come from @rng only. Returns NULL, or an error for invalid
 * input (min > max fee, zero capacity, local above capacity, NaN); @st is
 * untouched and @d says no_change on error. */
const char *fee_ctl_step(const struct fee_ctl_params *p,
			 struct fee_ctl_state *st,
			 const struct fee_ctl_obs *obs, uint64_t now,
			 struct rng *rng, struct fee_ctl_decision *d)
	__attribute__((warn_unused_result));

struct fee_ctl_posterior {
	double mean_ppm;
	double std_ppm;
	double rev_ref_sat_per_hour; /* decayed mean revenue rate */
	double weight;		     /* decayed window weight of the data */
	double data_mean_ppm;	     /* revenue-weighted mean, no prior */
	double data_weight;	     /* its total weight */
	uint32_t n_obs;
	bool from_prior;	     /* too little data: the prior */
};

/* The channel's global posterior at @now (for reports, and for the flow
 * and profitability thresholds that depend on its variance). */
void fee_ctl_posterior(const struct fee_ctl_params *p,
		       const struct fee_ctl_state *st, uint64_t now,
		       struct fee_ctl_posterior *out);

/* Index of the balance/time context for an outbound ratio and a time
 * intensity (< 0: unknown -> normal). */
size_t fee_ctl_context_index(double outbound_ratio, double time_intensity);

/* Find a recorded number of step @s by name; NaN if absent (for reports
 * and tests). */
double fee_ctl_step_num(const struct fee_ctl_decision *d,
			enum fee_ctl_step_id s, const char *name);

#endif
