/* Engine parameters from the settings; see params.h. */
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/base/config.h"
#include <string.h>

void params_fee_ctl(const struct ro_config *c, struct fee_ctl_params *p)
{
	fee_ctl_params_default(p);
	p->min_fee_ppm = cfg_i(c, CFG_MIN_FEE_PPM);
	p->max_fee_ppm = cfg_i(c, CFG_MAX_FEE_PPM);
	p->min_fee_ppm_saturated = cfg_i(c, CFG_MIN_FEE_PPM_SATURATED);
	p->base_fee_msat = cfg_i(c, CFG_BASE_FEE_MSAT);
	p->hive_fee_ppm = cfg_i(c, CFG_HIVE_FEE_PPM);
	p->default_open_cost_sat = cfg_i(c, CFG_ESTIMATED_OPEN_COST_SATS);
	p->congestion.threshold = cfg_d(c, CFG_HTLC_CONGESTION_THRESHOLD);
	p->congestion.scarcity_threshold = cfg_d(c, CFG_SCARCITY_THRESHOLD);
	p->vegas_enabled = cfg_b(c, CFG_ENABLE_VEGAS_REFLEX);
	p->vegas_decay = cfg_d(c, CFG_VEGAS_DECAY_RATE);
	p->vegas_cycle_sec = (uint64_t)cfg_i(c, CFG_FEE_INTERVAL);
	p->probe_enabled = cfg_b(c, CFG_ZERO_FEE_PROBE_ENABLED);
	p->fire_sale_enabled = cfg_b(c, CFG_FIRE_SALE_ENABLED);
	p->prior_std_ppm = (double)cfg_i(c, CFG_THOMPSON_PRIOR_STD_FEE);
	p->decay_hours = (double)cfg_i(c, CFG_THOMPSON_OBSERVATION_DECAY_HOURS);
	p->max_observations = (uint32_t)cfg_i(c, CFG_THOMPSON_MAX_OBSERVATIONS);
	p->min_observations = (uint32_t)cfg_i(c, CFG_THOMPSON_MIN_OBSERVATIONS);
	/* At most ~2 channel_updates per channel per day: the network
	 * rate-limits and penalises chatty nodes, and a fee needs hours of
	 * traffic before its revenue says anything. */
	p->min_observation_sec =
	    (uint64_t)cfg_i(c, CFG_FEE_MIN_OBSERVATION_HOURS) * 3600;
	p->max_observation_sec =
	    (uint64_t)cfg_i(c, CFG_FEE_MAX_OBSERVATION_HOURS) * 3600;
	p->reputation_enabled = cfg_b(c, CFG_ENABLE_REPUTATION);
	p->aimd_failure_threshold =
	    (uint32_t)cfg_i(c, CFG_AIMD_FAILURE_THRESHOLD);
	p->aimd_success_threshold =
	    (uint32_t)cfg_i(c, CFG_AIMD_SUCCESS_THRESHOLD);
	p->aimd_decrease = cfg_d(c, CFG_AIMD_MULTIPLICATIVE_DECREASE);
	p->aimd_increase_ppm = cfg_i(c, CFG_AIMD_ADDITIVE_INCREASE_PPM);
	p->aimd_min_decrease_interval_sec =
	    (uint64_t)cfg_i(c, CFG_AIMD_MIN_DECREASE_INTERVAL);
	p->scarcity_enabled = cfg_b(c, CFG_ENABLE_SCARCITY_PRICING);
	p->scarcity_threshold = cfg_d(c, CFG_SCARCITY_THRESHOLD);
	p->gossip_hysteresis_pct = cfg_d(c, CFG_GOSSIP_HYSTERESIS_PCT);
	/* The conservative profile moves in smaller steps (for low-volume
	 * nodes whose revenue signal is noisy). */
	if (!strcmp(cfg_s(c, CFG_FEE_PROFILE), "conservative")) {
		p->damp_ratio = 0.10;
		p->damp_min_ppm = 10;
	}
}

void params_flow(const struct ro_config *c, struct flow_params *p)
{
	flow_params_default(p);
	p->window_days = (double)cfg_i(c, CFG_FLOW_WINDOW_DAYS);
	p->source_threshold = cfg_d(c, CFG_SOURCE_THRESHOLD);
	p->sink_threshold = cfg_d(c, CFG_SINK_THRESHOLD);
}

void params_reputation(const struct ro_config *c,
		       struct reputation_params *p)
{
	reputation_params_default(p);
	/* The documented rate is per hour; decaying by elapsed time keeps
	 * the half-life independent of the flow interval (defect 2). */
	p->decay = cfg_d(c, CFG_REPUTATION_DECAY);
	p->decay_interval_sec = 3600;
}
