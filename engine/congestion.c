/* HTLC-slot congestion and scarcity; see congestion.h. */
#include "engine/congestion.h"
#include "engine/num.h"
#include <math.h>

void congestion_params_default(struct congestion_params *p)
{
	p->threshold = 0.8;
	p->default_max_htlcs = 483;
	p->weight_unit_msat = 100000000;
	p->weight_min = 0.01;
	p->weight_max = 10;
	p->ema_alpha_up = 0.4;
	p->ema_alpha_down = 0.1;
	p->scarcity_threshold = 0.35;
	p->scarcity_max_extra = 2.0;
	p->rebalance_guard_util = 0.6;
}

static double htlc_weight(const struct congestion_params *p,
			  uint64_t amount_msat)
{
	double unit = p->weight_unit_msat ? (double)p->weight_unit_msat : 1e8;

	return clampd((double)amount_msat / unit, p->weight_min,
		      p->weight_max);
}

static uint32_t max_slots(const struct congestion_params *p,
			  const struct congestion_obs *obs)
{
	if (obs->max_accepted_htlcs)
		return obs->max_accepted_htlcs;
	return p->default_max_htlcs ? p->default_max_htlcs : 483;
}

const char *congestion_measure(const struct congestion_params *p,
			       const struct congestion_obs *obs,
			       struct congestion_result *out)
{
	double weights = 0;
	uint32_t n;

	*out = (struct congestion_result){0};
	if (obs->n_amounts && !obs->htlc_amounts_msat)
		return "congestion: htlc amounts missing";
	out->max_htlcs = max_slots(p, obs);
	/* A listed HTLC occupies a slot even if the count lags behind. */
	n = obs->n_htlcs;
	if (obs->n_amounts > n)
		n = (uint32_t)obs->n_amounts;
	out->slot_util = fmin(1.0, (double)n / out->max_htlcs);
	for (size_t i = 0; i < obs->n_amounts; i++)
		weights += htlc_weight(p, obs->htlc_amounts_msat[i]);
	out->weighted_util = fmin(1.0, weights / out->max_htlcs);
	if (obs->max_in_flight_msat)
		out->inflight_util =
		    fmin(1.0, (double)obs->in_flight_msat /
				  (double)obs->max_in_flight_msat);
	out->value_util = fmax(out->weighted_util, out->inflight_util);
	out->util = fmax(out->slot_util, out->value_util);
	out->congested = out->util > p->threshold;
	return NULL;
}

double congestion_ema_update(const struct congestion_params *p,
			     double prev_ema, double util)
{
	double a;

	if (!isfinite(util))
		return prev_ema;
	if (!isfinite(prev_ema))
		prev_ema = 0;
	util = clampd(util, 0, 1);
	a = util > prev_ema ? p->ema_alpha_up : p->ema_alpha_down;
	return clampd(prev_ema + a * (util - prev_ema), 0, 1);
}

double congestion_scarcity_multiplier(const struct congestion_params *p,
				      double ema)
{
	double thr = p->scarcity_threshold, x;

	if (!isfinite(ema) || ema <= thr || thr >= 1)
		return 1.0;
	x = (fmin(ema, 1.0) - thr) / (1 - thr);
	return 1 + x * x * p->scarcity_max_extra;
}

bool congestion_rebalance_blocked(const struct congestion_params *p,
				  const struct congestion_obs *obs,
				  uint64_t amount_msat, double *util_after)
{
	double weights;
	uint32_t slots;

	if (obs->n_amounts && !obs->htlc_amounts_msat) {
		if (util_after)
			*util_after = 0;
		return false;
	}
	slots = max_slots(p, obs);
	weights = htlc_weight(p, amount_msat);
	for (size_t i = 0; i < obs->n_amounts; i++)
		weights += htlc_weight(p, obs->htlc_amounts_msat[i]);
	if (util_after)
		*util_after = weights / slots;
	return weights / slots > p->rebalance_guard_util;
}
