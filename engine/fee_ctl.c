/* The fee controller's vocabulary: the defaults of its parameters and
 * observations, the names of its steps, strategies, classes and actions,
 * and reading a number back from a decision. The order itself runs in
 * fee_ctl_order.c; fee_ctl.h lists it and names the file of each step. */
#include "engine/fee_ctl.h"
#include <math.h>
#include <string.h>

/* ---- names ---- */

static const char *const step_names[FEE_STEP_NUM] = {
	[FEE_STEP_POLICY] = "policy",
	[FEE_STEP_EXTERNAL] = "external",
	[FEE_STEP_BOUNDS] = "bounds",
	[FEE_STEP_CONGESTION] = "congestion",
	[FEE_STEP_VEGAS] = "vegas",
	[FEE_STEP_PROBE] = "probe",
	[FEE_STEP_FIRE_SALE] = "fire_sale",
	[FEE_STEP_THOMPSON] = "thompson",
	[FEE_STEP_COLD_START] = "cold_start",
	[FEE_STEP_SCARCITY] = "scarcity",
	[FEE_STEP_MIN_CHANGE] = "min_change",
	[FEE_STEP_HYSTERESIS] = "hysteresis",
	[FEE_STEP_IDEMPOTENT] = "idempotent",
	[FEE_STEP_REFRESH] = "refresh",
};

const char *fee_ctl_step_name(enum fee_ctl_step_id s)
{
	if ((unsigned)s < FEE_STEP_NUM)
		return step_names[s];
	return "unknown";
}

const char *fee_ctl_strategy_name(enum fee_ctl_strategy s)
{
	switch (s) {
	case FEE_CTL_DYNAMIC:
		return "dynamic";
	case FEE_CTL_STATIC:
		return "static";
	case FEE_CTL_PASSIVE:
		return "passive";
	case FEE_CTL_HIVE:
		return "hive";
	}
	return "unknown";
}

const char *fee_ctl_class_name(enum fee_ctl_class c)
{
	switch (c) {
	case FEE_CLASS_NONE:
		return "none";
	case FEE_CLASS_NORMAL:
		return "normal";
	case FEE_CLASS_CONGESTION:
		return "congestion";
	case FEE_CLASS_PROBE:
		return "probe";
	case FEE_CLASS_FIRE_SALE:
		return "fire_sale";
	case FEE_CLASS_POLICY:
		return "policy";
	case FEE_CLASS_EXTERNAL:
		return "external";
	}
	return "unknown";
}

const char *fee_ctl_action_name(enum fee_ctl_action a)
{
	switch (a) {
	case FEE_CTL_NO_CHANGE:
		return "no_change";
	case FEE_CTL_SET:
		return "set";
	case FEE_CTL_ADOPT_EXTERNAL:
		return "adopt_external";
	}
	return "unknown";
}

/* ---- defaults ---- */

void fee_ctl_params_default(struct fee_ctl_params *p)
{
	*p = (struct fee_ctl_params){
	    .min_fee_ppm = 10,
	    .max_fee_ppm = 5000,
	    .abs_max_fee_ppm = 100000,
	    .min_fee_ppm_saturated = 0,
	    .saturated_outbound_ratio = 0.85,
	    .balanced_router_max_imbalance = 0.33,
	    .balanced_router_min_turnover = 0.25,
	    .base_fee_msat = -1,
	    .hive_fee_ppm = 0,
	    .default_open_cost_sat = 5000,
	    .default_close_cost_sat = 3000,
	    .open_vbytes = 140,
	    .close_vbytes = 200,
	    .open_cost_min_sat = 500,
	    .open_cost_max_sat = 50000,
	    .close_cost_min_sat = 300,
	    .close_cost_max_sat = 50000,
	    .lifetime_days = 365,
	    .amortise_daily_volume_sat = 1000000,
	    .amortise_capacity_turnover = 0,
	    .force_close_probability = 0.001,
	    .force_close_vbytes = 150,
	    .reference_htlc_sat = 50000,
	    .hold_avg_sec = 10,
	    .hold_std_sec = 5,
	    .hold_premium = 1.2,
	    .very_low_balance_ratio = 0.10,
	    .very_low_balance_floor_ppm = 500,
	    .low_balance_ratio = 0.25,
	    .low_balance_floor_ppm = 200,
	    .max_floor_multiplier = 3.0,
	    .rebalance_floor_min_samples = 3,
	    .rebalance_floor_margin = 1.20,
	    .rebalance_floor_cap_ppm = 5000,
	    .protective_ceiling_headroom_ppm = 100,
	    .idle_ceiling_min_fee_ppm = 500,
	    .idle_ceiling_days_1 = 3,
	    .idle_ceiling_days_2 = 7,
	    .policy_mult_min_default = 0.1,
	    .policy_mult_max_default = 5.0,
	    .congestion_step_mult = 2,
	    .congestion_step_ppm = 250,
	    .congestion_episode_mult = 4,
	    .congestion_quiet_cycles = 2,
	    .vegas_enabled = true,
	    .vegas_decay = 0.85,
	    .vegas_cycle_sec = 1800,
	    .probe_enabled = true,
	    .probe_idle_days = 7,
	    .probe_max_age_sec = 86400,
	    .probe_max_attempts = 2,
	    .probe_cooldown_sec = 7 * 86400,
	    .probe_min_outbound_ratio = 0.05,
	    .fire_sale_enabled = false,
	    .fire_sale_min_days_open = 90,
	    .fire_sale_underwater_roi = -0.5,
	    .momentum_marginal_roi = 0.05,
	    .momentum_max_days_open = 180,
	    .fire_sale_fee_ppm = 1,
	    .prior_mean_ppm = 200,
	    .prior_std_ppm = 100,
	    .prior_weight = 1.0,
	    .decay_hours = 168,
	    .max_observations = 200,
	    .min_observations = 3,
	    .min_std_ppm = 10,
	    .cold_prior_std_mult = 1.5,
	    .regime_explore_mult = 1.5,
	    .revenue_weight_power = 3,
	    .revenue_weight_cap = 8,
	    .context_min_count = 3,
	    .context_offset_cap = 0.20,
	    .min_observation_sec = 3600,
	    .max_observation_sec = 6 * 3600,
	    .min_forwards_for_signal = 3,
	    .full_weight_hours = 6,
	    .ema_alpha = 0.3,
	    .damp_ratio = 0.25,
	    .damp_min_ppm = 25,
	    .reputation_enabled = true,
	    .aimd_failure_threshold = 3,
	    .aimd_success_threshold = 10,
	    .aimd_decrease = 0.85,
	    .aimd_min_modifier = 0.5,
	    .aimd_increase_ppm = 5,
	    .aimd_min_decrease_interval_sec = 3600,
	    .cold_start_forwards = 5,
	    .cold_start_headroom_ppm = 50,
	    .cold_start_ceiling_min_ppm = 100,
	    .scarcity_enabled = true,
	    .scarcity_threshold = 0.35,
	    .scarcity_max_mult = 3,
	    .liquidity_credit_weight = 0.5,
	    .liquidity_credit_ratio = 0.5,
	    .min_change_low_fee_ppm = 100,
	    .min_change_ppm = 5,
	    .min_change_ratio = 0.03,
	    .gossip_hysteresis_pct = 0.05,
	    .gossip_refresh_sec = 86400,
	    .external_hold_sec = 86400,
	};
	congestion_params_default(&p->congestion);
	pnl_params_default(&p->pnl);
}

void fee_ctl_obs_init(struct fee_ctl_obs *o)
{
	*o = (struct fee_ctl_obs){
	    .opener = PNL_OPENER_UNKNOWN,
	    .policy = {.strategy = FEE_CTL_DYNAMIC, .fee_ppm_target = -1},
	    .flow_class = FLOW_UNKNOWN,
	    .peer_reputation = -1,
	    .peer_uptime_pct = -1,
	    .peer_hold_avg_sec = -1,
	    .peer_hold_std_sec = -1,
	    .pnl_known = false,
	    .pnl_class = PNL_BREAK_EVEN,
	    .time_intensity = -1,
	    .prior_hint_ppm = -1,
	    .anchor_target_ppm = -1,
	};
}

/* ---- reading a decision ---- */

double fee_ctl_step_num(const struct fee_ctl_decision *d,
			enum fee_ctl_step_id s, const char *name)
{
	const struct fee_ctl_step_rec *r;

	if ((unsigned)s >= FEE_STEP_NUM)
		return NAN;
	r = &d->steps[s];
	for (size_t i = 0; i < r->n_nums; i++)
		if (strcmp(r->nums[i].name, name) == 0)
			return r->nums[i].value;
	return NAN;
}
