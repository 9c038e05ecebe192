/* Profitability (spec §4.10) and lifecycle accounting (§4.16): per-channel
 * P&L, profitability classes, ROI, marginal ROI, bleeders, return on
 * capital, lifetime and period totals, and the frozen P&L of a closed
 * channel.
 *
 * Amounts are msat in int64_t (costs and revenue are non-negative; net
 * values may be negative). All sums use overflow-checked arithmetic: a
 * function that would overflow returns an error instead of a wrong number.
 * Converting to sat follows the port's rounding rules: fees, costs and
 * revenue round up, volumes and balances down, signed nets toward zero.
 *
 * Channel valuation: total contribution = max(fees earned as the exit,
 * fees sourced as the entry); net profit = contribution - (open + splice +
 * rebalance (+ close once closed)); ROI = net / cost. A channel the peer
 * opened cost us nothing to open, so its open cost is not counted.
 *
 * Classes, first match wins (strings are the datastore contract):
 *   zombie             roi < -0.10, >= 2 zero-fee probes, and either the
 *                      last probe success is > 48 h old with no routing
 *                      since, or (no success) >= 7 days inactive;
 *   stagnant_candidate >= 7 days inactive and roi < -0.10, or no
 *                      contribution in 30 days, >= 30 days inactive and
 *                      > 60 days open;
 *   profitable         roi > 0.10 (0.05 once the fee is well learned:
 *                      posterior variance < 2500);
 *   underwater         roi < -0.10 (-0.15 once well learned);
 *   break_even         otherwise. */
#ifndef HIVE_ENGINE_PNL_H
#define HIVE_ENGINE_PNL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pnl_class {
	PNL_PROFITABLE,
	PNL_BREAK_EVEN,
	PNL_UNDERWATER,
	PNL_STAGNANT,
	PNL_ZOMBIE,
	PNL_CLASS_NUM
};

enum pnl_bleeder {
	PNL_BLEEDER_NONE,
	PNL_BLEEDER_SOFT,
	PNL_BLEEDER_HARD,
};

enum pnl_opener {
	PNL_OPENER_UNKNOWN,
	PNL_OPENER_LOCAL,
	PNL_OPENER_REMOTE,
};

/* "profitable", "break_even", "underwater", "stagnant_candidate",
 * "zombie". */
const char *pnl_class_name(enum pnl_class c);
/* "none", "soft", "hard". */
const char *pnl_bleeder_name(enum pnl_bleeder b);

struct pnl_params {
	double profitable_roi;		/* 0.10 */
	double underwater_roi;		/* -0.10 */
	double learned_posterior_var;	/* below: tighter thresholds: 2500 */
	double learned_profitable_roi;	/* 0.05 */
	double learned_underwater_roi;	/* -0.15 */
	double zombie_roi;		/* -0.10 (also stagnant) */
	uint32_t zombie_min_probes;	/* 2 */
	uint64_t zombie_probe_success_age_sec; /* 48 h */
	uint32_t inactive_days;		/* 7 */
	uint32_t f3_inactive_days;	/* 30 */
	uint32_t f3_min_days_open;	/* 60 */
	int64_t marginal_reliable_cost_msat; /* 100 sat */
	double bleeder_success_floor;	/* 0.10 */
	uint32_t bleeder_min_success_samples; /* 3 */
	double bleeder_cost_revenue_ratio; /* 2 */
	int64_t bleeder_hard_net_msat;	/* -1000 sat */
	int64_t bleeder_sticky_net_msat; /* -500 sat */
	int64_t bleeder_min_cost_msat;	/* 100 sat */
	double fee_adj_profitable_roi;	/* 0.20 */
	double fee_adj_profitable_mult; /* 1.10 */
	double fee_adj_underwater_roi;	/* -0.20 */
	double fee_adj_underwater_mult; /* 0.85 */
};

/* The reference thresholds listed above. */
void pnl_params_default(struct pnl_params *p);

/* One channel's accounting inputs (all msat, non-negative). */
struct pnl_channel_obs {
	int64_t open_cost_msat;
	int64_t close_cost_msat;  /* counted only when @closed */
	int64_t splice_cost_msat; /* sum over all splices */
	int64_t rebalance_cost_msat; /* as destination, lifetime */
	int64_t fees_earned_msat;    /* as exit */
	int64_t sourced_fee_msat;    /* as entry */
	int64_t volume_routed_msat;
	int64_t sourced_volume_msat;
	uint32_t forward_count;
	uint32_t sourced_forward_count;
	bool window_30d_available;
	int64_t fees_earned_30d_msat;
	int64_t sourced_fee_30d_msat;
	int64_t rebalance_cost_30d_msat;
	uint32_t forward_count_30d;
	int64_t contribution_7d_msat; /* for bleeders */
	int64_t rebalance_cost_7d_msat;
	uint64_t opened_sec;
	uint64_t last_routed_sec; /* 0: never */
	bool closed;
	enum pnl_opener opener;
	uint64_t capacity_sat;
	uint32_t probe_attempts;     /* zero-fee probes (fee_ctl_state) */
	uint64_t probe_success_sec;  /* 0: none succeeded */
	double fee_posterior_var;    /* < 0: unknown */
	uint32_t rebalance_success_samples;
	double rebalance_success_rate; /* 0..1 */
	enum pnl_bleeder prev_bleeder;
};

struct pnl_channel_result {
	int64_t open_cost_counted_msat; /* 0 for a remote-opened channel */
	int64_t total_cost_msat;
	int64_t total_contribution_msat;
	int64_t net_profit_msat;
	double roi;		/* fraction; see pnl_channel() for cost 0 */
	double roi_pct;
	int64_t contribution_30d_msat;
	int64_t marginal_profit_30d_msat;
	double marginal_roi;
	double marginal_roi_pct;
	bool marginal_reliable;
	bool operationally_profitable; /* marginal_roi >= 0 */
	double cost_per_sat_routed;    /* cost / routed volume (0 if none) */
	double fee_per_sat_routed;
	uint32_t days_open;
	uint32_t days_inactive;
	double profitable_threshold; /* thresholds actually used */
	double underwater_threshold;
	enum pnl_class cls;
	const char
	    *class_reason; /* "zombie_probe_failed", "zombie_probe_stale",
			    * "inactive_underwater", "f3_no_contribution",
			    * "roi_above", "roi_below", "roi_between" */
	enum pnl_bleeder bleeder;
	const char *bleeder_reason;
	double bleeder_effective_cost_msat;
};

/* Account one channel at @now. ROI with zero cost: 1.0 if the net profit
 * is positive, else 0 (the spec leaves it open; this mirrors its marginal
 * ROI rule). Returns NULL, or an error (negative amount, overflow). */
const char *pnl_channel(const struct pnl_params *p,
			const struct pnl_channel_obs *o, uint64_t now,
			struct pnl_channel_result *out)
	__attribute__((warn_unused_result));

/* Fee adjustment a profitability class asks of the fee controller:
 * x1.10 for profitable with roi > 20 %, x0.85 for underwater with roi <
 * -20 %, 1 otherwise (break_even and stagnant included: the reference's
 * non-existent MARGINAL class, defect 9). *to_floor is set true for a
 * zombie (price at the floor). */
double pnl_fee_adjustment(const struct pnl_params *p, enum pnl_class c,
			  double roi, bool *to_floor);

/* Annualised return on capital in percent: net / capital * 365 / days *
 * 100; 0 when capital or days is 0. */
double pnl_roc_pct(int64_t net_msat, uint64_t capital_sat, uint32_t days);

/* Node lifetime totals. Revenue is every exit fee ever earned (live
 * forwards + daily rollups + pruned aggregates). */
struct pnl_lifetime_obs {
	int64_t revenue_msat;
	int64_t open_cost_msat;
	int64_t close_cost_msat;
	int64_t splice_cost_msat;
	int64_t rebalance_cost_msat;
};

struct pnl_lifetime_result {
	int64_t total_cost_msat;
	int64_t net_profit_msat;
	double roi_pct; /* net / cost * 100; 0 with no cost */
	int64_t revenue_sat; /* ceil */
	int64_t total_cost_sat; /* ceil */
	int64_t net_profit_sat; /* toward zero */
};

const char *pnl_lifetime(const struct pnl_lifetime_obs *o,
			 struct pnl_lifetime_result *out)
	__attribute__((warn_unused_result));

/* A reporting period (dashboard): opex = rebalance + closure + splice. */
struct pnl_period_obs {
	int64_t gross_revenue_msat;
	int64_t rebalance_cost_msat;
	int64_t closure_cost_msat;
	int64_t splice_cost_msat;
	uint64_t capital_sat; /* TLV, or capacity */
	uint32_t window_days;
};

struct pnl_period_result {
	int64_t opex_msat;
	int64_t net_profit_msat;
	double operating_margin_pct; /* net / gross * 100; 0 when gross 0 */
	double annualized_roc_pct;
};

const char *pnl_period(const struct pnl_period_obs *o,
		       struct pnl_period_result *out)
	__attribute__((warn_unused_result));

/* The frozen P&L of a closed channel (the closed_channels row). Revenue
 * is the channel's exit fees, rounded up to sat (the reference read a key
 * that did not exist and archived 0, defect 31). */
struct pnl_closed_result {
	int64_t total_revenue_sat;
	int64_t rebalance_cost_sat;
	int64_t open_cost_sat;
	int64_t close_cost_sat;
	int64_t splice_cost_sat;
	int64_t net_pnl_sat; /* from msat totals, toward zero */
	uint32_t days_open;
};

const char *pnl_closed_channel(const struct pnl_channel_obs *o,
			       uint64_t closed_sec,
			       struct pnl_closed_result *out)
	__attribute__((warn_unused_result));

/* An on-chain cost from bookkeeper, sanitised: clamped to [0, 50,000 sat];
 * when @found is false (no matching event: "no data", not "free") the
 * @fallback_msat default applies (defect 32). */
int64_t pnl_chain_cost_msat(bool found, int64_t fee_msat,
			    int64_t fallback_msat);

/* msat -> sat: round up (fees, costs, revenue), down (volumes, balances),
 * toward zero (signed nets). */
int64_t pnl_msat_to_sat_ceil(int64_t msat);
int64_t pnl_msat_to_sat_floor(int64_t msat);
int64_t pnl_msat_to_sat_trunc(int64_t msat);

#endif
