/* Profitability and lifecycle accounting; see pnl.h. */
#include "engine/pnl.h"
#include <math.h>

#define SAT 1000
#define CHAIN_COST_CAP_MSAT (50000LL * SAT)

const char *pnl_class_name(enum pnl_class c)
{
	switch (c) {
	case PNL_PROFITABLE:
		return "profitable";
	case PNL_BREAK_EVEN:
		return "break_even";
	case PNL_UNDERWATER:
		return "underwater";
	case PNL_STAGNANT:
		return "stagnant_candidate";
	case PNL_ZOMBIE:
		return "zombie";
	case PNL_CLASS_NUM:
		break;
	}
	return "unknown";
}

const char *pnl_bleeder_name(enum pnl_bleeder b)
{
	switch (b) {
	case PNL_BLEEDER_SOFT:
		return "soft";
	case PNL_BLEEDER_HARD:
		return "hard";
	case PNL_BLEEDER_NONE:
		break;
	}
	return "none";
}

void pnl_params_default(struct pnl_params *p)
{
	p->profitable_roi = 0.10;
	p->underwater_roi = -0.10;
	p->learned_posterior_var = 2500;
	p->learned_profitable_roi = 0.05;
	p->learned_underwater_roi = -0.15;
	p->zombie_roi = -0.10;
	p->zombie_min_probes = 2;
	p->zombie_probe_success_age_sec = 48 * 3600;
	p->inactive_days = 7;
	p->f3_inactive_days = 30;
	p->f3_min_days_open = 60;
	p->marginal_reliable_cost_msat = 100 * SAT;
	p->bleeder_success_floor = 0.10;
	p->bleeder_min_success_samples = 3;
	p->bleeder_cost_revenue_ratio = 2;
	p->bleeder_hard_net_msat = -1000 * SAT;
	p->bleeder_sticky_net_msat = -500 * SAT;
	p->bleeder_min_cost_msat = 100 * SAT;
	p->fee_adj_profitable_roi = 0.20;
	p->fee_adj_profitable_mult = 1.10;
	p->fee_adj_underwater_roi = -0.20;
	p->fee_adj_underwater_mult = 0.85;
}

/* Overflow-checked helpers: the engine may not use common/amount.h. */
static bool add_ok(int64_t a, int64_t b, int64_t *r)
{
	return !__builtin_add_overflow(a, b, r);
}

static bool sub_ok(int64_t a, int64_t b, int64_t *r)
{
	return !__builtin_sub_overflow(a, b, r);
}

int64_t pnl_msat_to_sat_floor(int64_t msat)
{
	int64_t q = msat / SAT;

	/* C division truncates; floor differs for negative remainders. */
	if (msat % SAT != 0 && msat < 0)
		q--;
	return q;
}

int64_t pnl_msat_to_sat_ceil(int64_t msat)
{
	int64_t q = msat / SAT;

	if (msat % SAT != 0 && msat > 0)
		q++;
	return q;
}

int64_t pnl_msat_to_sat_trunc(int64_t msat)
{
	return msat / SAT;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static uint32_t days_between(uint64_t from, uint64_t to)
{
	uint64_t d;

	if (to <= from)
		return 0;
	d = (to - from) / 86400;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static double ratio(int64_t num, int64_t den)
{
	return (double)num / (double)den;
}

static enum pnl_bleeder bleeder(const struct pnl_params *p,
				const struct pnl_channel_obs *o,
				int64_t rev30, const char **reason,
				double *eff_cost)
{
	int64_t cost30 = o->rebalance_cost_30d_msat, net30, net7;
	double eff = (double)cost30;

	if (!sub_ok(rev30, cost30, &net30) ||
	    !sub_ok(o->contribution_7d_msat, o->rebalance_cost_7d_msat,
		    &net7)) {
		*reason = "overflow";
		return PNL_BLEEDER_NONE;
	}
	/* Failed attempts cost too: scale the spend by the success rate. */
	if (o->rebalance_success_samples >= p->bleeder_min_success_samples)
		eff = (double)cost30 / fmax(p->bleeder_success_floor,
					    o->rebalance_success_rate);
	*eff_cost = eff;
	if (eff > p->bleeder_cost_revenue_ratio * (double)rev30 &&
	    net30 < p->bleeder_hard_net_msat) {
		*reason = "cost_exceeds_revenue";
		return PNL_BLEEDER_HARD;
	}
	if (o->prev_bleeder == PNL_BLEEDER_HARD &&
	    net30 <= p->bleeder_sticky_net_msat) {
		*reason = "still_hard";
		return PNL_BLEEDER_HARD;
	}
	if (cost30 < p->bleeder_min_cost_msat) {
		*reason = "low_cost";
		return PNL_BLEEDER_NONE;
	}
	if (net7 < 0 && net30 > 0) {
		*reason = "recent_loss";
		return PNL_BLEEDER_SOFT;
	}
	if (net7 < 0 && net30 < 0) {
		if (net30 < p->bleeder_hard_net_msat) {
			*reason = "sustained_loss";
			return PNL_BLEEDER_HARD;
		}
		*reason = "small_sustained_loss";
		return PNL_BLEEDER_SOFT;
	}
	if (net30 < 0) {
		*reason = "recovering";
		return PNL_BLEEDER_SOFT;
	}
	*reason = "healthy";
	return PNL_BLEEDER_NONE;
}

const char *pnl_channel(const struct pnl_params *p,
			const struct pnl_channel_obs *o, uint64_t now,
			struct pnl_channel_result *out)
{
	int64_t cost = 0, rev30;
	double prof_thr, uw_thr;

	*out = (struct pnl_channel_result){0};
	if (o->open_cost_msat < 0 || o->close_cost_msat < 0 ||
	    o->splice_cost_msat < 0 || o->rebalance_cost_msat < 0 ||
	    o->fees_earned_msat < 0 || o->sourced_fee_msat < 0 ||
	    o->volume_routed_msat < 0 || o->sourced_volume_msat < 0 ||
	    o->fees_earned_30d_msat < 0 || o->sourced_fee_30d_msat < 0 ||
	    o->rebalance_cost_30d_msat < 0 || o->contribution_7d_msat < 0 ||
	    o->rebalance_cost_7d_msat < 0)
		return "pnl: negative amount";

	/* The peer paid for a channel it opened (spec D-8, defect 7). */
	out->open_cost_counted_msat =
	    o->opener == PNL_OPENER_REMOTE ? 0 : o->open_cost_msat;
	if (!add_ok(cost, out->open_cost_counted_msat, &cost) ||
	    !add_ok(cost, o->splice_cost_msat, &cost) ||
	    !add_ok(cost, o->rebalance_cost_msat, &cost) ||
	    (o->closed && !add_ok(cost, o->close_cost_msat, &cost)))
		return "pnl: cost overflows";
	out->total_cost_msat = cost;
	/* Valuation only: a forward is counted once per channel it touched,
	 * so the larger side, never the sum. */
	out->total_contribution_msat =
	    max64(o->fees_earned_msat, o->sourced_fee_msat);
	if (!sub_ok(out->total_contribution_msat, cost, &out->net_profit_msat))
		return "pnl: net overflows";
	if (cost > 0)
		out->roi = ratio(out->net_profit_msat, cost);
	else
		out->roi = out->net_profit_msat > 0 ? 1.0 : 0.0;
	out->roi_pct = out->roi * 100;

	if (o->volume_routed_msat > 0) {
		out->cost_per_sat_routed =
		    (double)cost / ((double)o->volume_routed_msat / SAT);
		out->fee_per_sat_routed = (double)o->fees_earned_msat /
					  ((double)o->volume_routed_msat / SAT);
	}

	rev30 = o->window_30d_available
		    ? max64(o->fees_earned_30d_msat, o->sourced_fee_30d_msat)
		    : out->total_contribution_msat;
	out->contribution_30d_msat = rev30;
	if (!sub_ok(rev30, o->rebalance_cost_30d_msat,
		    &out->marginal_profit_30d_msat))
		return "pnl: marginal profit overflows";
	/* Marginal ROI ignores the sunk open cost: is running it worth it? */
	if (o->rebalance_cost_30d_msat <= 0)
		out->marginal_roi =
		    out->marginal_profit_30d_msat > 0 ? 1.0 : 0.0;
	else
		out->marginal_roi =
		    ratio(out->marginal_profit_30d_msat,
			  max64(SAT, o->rebalance_cost_30d_msat));
	out->marginal_roi_pct = out->marginal_roi * 100;
	out->marginal_reliable =
	    o->rebalance_cost_30d_msat >= p->marginal_reliable_cost_msat;
	out->operationally_profitable = out->marginal_roi >= 0;

	out->days_open = days_between(o->opened_sec, now);
	out->days_inactive = o->last_routed_sec
				 ? days_between(o->last_routed_sec, now)
				 : out->days_open;

	if (o->fee_posterior_var >= 0 &&
	    o->fee_posterior_var < p->learned_posterior_var) {
		prof_thr = p->learned_profitable_roi;
		uw_thr = p->learned_underwater_roi;
	} else {
		prof_thr = p->profitable_roi;
		uw_thr = p->underwater_roi;
	}
	out->profitable_threshold = prof_thr;
	out->underwater_threshold = uw_thr;

	if (out->roi < p->zombie_roi &&
	    o->probe_attempts >= p->zombie_min_probes) {
		if (o->probe_success_sec) {
			/* Demand appeared at zero fee but not since. */
			if (now > o->probe_success_sec &&
			    now - o->probe_success_sec >
				p->zombie_probe_success_age_sec &&
			    o->last_routed_sec <= o->probe_success_sec) {
				out->cls = PNL_ZOMBIE;
				out->class_reason = "zombie_probe_stale";
			}
		} else if (out->days_inactive >= p->inactive_days) {
			out->cls = PNL_ZOMBIE;
			out->class_reason = "zombie_probe_failed";
		}
	}
	if (!out->class_reason) {
		if (out->days_inactive >= p->inactive_days &&
		    out->roi < p->zombie_roi) {
			out->cls = PNL_STAGNANT;
			out->class_reason = "inactive_underwater";
		} else if (o->window_30d_available && rev30 <= 0 &&
			   out->days_inactive >= p->f3_inactive_days &&
			   out->days_open > p->f3_min_days_open) {
			out->cls = PNL_STAGNANT;
			out->class_reason = "f3_no_contribution";
		} else if (out->roi > prof_thr) {
			out->cls = PNL_PROFITABLE;
			out->class_reason = "roi_above";
		} else if (out->roi < uw_thr) {
			out->cls = PNL_UNDERWATER;
			out->class_reason = "roi_below";
		} else {
			out->cls = PNL_BREAK_EVEN;
			out->class_reason = "roi_between";
		}
	}
	out->bleeder = bleeder(p, o, rev30, &out->bleeder_reason,
			       &out->bleeder_effective_cost_msat);
	return NULL;
}

double pnl_fee_adjustment(const struct pnl_params *p, enum pnl_class c,
			  double roi, bool *to_floor)
{
	*to_floor = false;
	switch (c) {
	case PNL_PROFITABLE:
		if (roi > p->fee_adj_profitable_roi)
			return p->fee_adj_profitable_mult;
		return 1.0;
	case PNL_UNDERWATER:
		if (roi < p->fee_adj_underwater_roi)
			return p->fee_adj_underwater_mult;
		return 1.0;
	case PNL_ZOMBIE:
		*to_floor = true;
		return 1.0;
	case PNL_BREAK_EVEN:
	case PNL_STAGNANT:
	case PNL_CLASS_NUM:
		break;
	}
	return 1.0;
}

double pnl_roc_pct(int64_t net_msat, uint64_t capital_sat, uint32_t days)
{
	if (capital_sat == 0 || days == 0)
		return 0;
	return (double)net_msat / SAT / (double)capital_sat * 365.0 /
	       (double)days * 100.0;
}

const char *pnl_lifetime(const struct pnl_lifetime_obs *o,
			 struct pnl_lifetime_result *out)
{
	int64_t cost = 0;

	*out = (struct pnl_lifetime_result){0};
	if (o->revenue_msat < 0 || o->open_cost_msat < 0 ||
	    o->close_cost_msat < 0 || o->splice_cost_msat < 0 ||
	    o->rebalance_cost_msat < 0)
		return "pnl: negative amount";
	if (!add_ok(cost, o->open_cost_msat, &cost) ||
	    !add_ok(cost, o->close_cost_msat, &cost) ||
	    !add_ok(cost, o->splice_cost_msat, &cost) ||
	    !add_ok(cost, o->rebalance_cost_msat, &cost) ||
	    !sub_ok(o->revenue_msat, cost, &out->net_profit_msat))
		return "pnl: lifetime total overflows";
	out->total_cost_msat = cost;
	out->roi_pct = cost > 0 ? ratio(out->net_profit_msat, cost) * 100 : 0;
	out->revenue_sat = pnl_msat_to_sat_ceil(o->revenue_msat);
	out->total_cost_sat = pnl_msat_to_sat_ceil(cost);
	out->net_profit_sat = pnl_msat_to_sat_trunc(out->net_profit_msat);
	return NULL;
}

const char *pnl_period(const struct pnl_period_obs *o,
		       struct pnl_period_result *out)
{
	int64_t opex = 0;

	*out = (struct pnl_period_result){0};
	if (o->gross_revenue_msat < 0 || o->rebalance_cost_msat < 0 ||
	    o->closure_cost_msat < 0 || o->splice_cost_msat < 0)
		return "pnl: negative amount";
	if (!add_ok(opex, o->rebalance_cost_msat, &opex) ||
	    !add_ok(opex, o->closure_cost_msat, &opex) ||
	    !add_ok(opex, o->splice_cost_msat, &opex) ||
	    !sub_ok(o->gross_revenue_msat, opex, &out->net_profit_msat))
		return "pnl: period total overflows";
	out->opex_msat = opex;
	out->operating_margin_pct =
	    o->gross_revenue_msat > 0
		? ratio(out->net_profit_msat, o->gross_revenue_msat) * 100
		: 0;
	out->annualized_roc_pct =
	    pnl_roc_pct(out->net_profit_msat, o->capital_sat, o->window_days);
	return NULL;
}

const char *pnl_closed_channel(const struct pnl_channel_obs *o,
			       uint64_t closed_sec,
			       struct pnl_closed_result *out)
{
	int64_t open, cost = 0, net;

	*out = (struct pnl_closed_result){0};
	if (o->fees_earned_msat < 0 || o->open_cost_msat < 0 ||
	    o->close_cost_msat < 0 || o->splice_cost_msat < 0 ||
	    o->rebalance_cost_msat < 0)
		return "pnl: negative amount";
	open = o->opener == PNL_OPENER_REMOTE ? 0 : o->open_cost_msat;
	if (!add_ok(cost, open, &cost) ||
	    !add_ok(cost, o->close_cost_msat, &cost) ||
	    !add_ok(cost, o->splice_cost_msat, &cost) ||
	    !add_ok(cost, o->rebalance_cost_msat, &cost) ||
	    !sub_ok(o->fees_earned_msat, cost, &net))
		return "pnl: closed channel total overflows";
	out->total_revenue_sat = pnl_msat_to_sat_ceil(o->fees_earned_msat);
	out->rebalance_cost_sat = pnl_msat_to_sat_ceil(o->rebalance_cost_msat);
	out->open_cost_sat = pnl_msat_to_sat_ceil(open);
	out->close_cost_sat = pnl_msat_to_sat_ceil(o->close_cost_msat);
	out->splice_cost_sat = pnl_msat_to_sat_ceil(o->splice_cost_msat);
	out->net_pnl_sat = pnl_msat_to_sat_trunc(net);
	out->days_open = days_between(o->opened_sec, closed_sec);
	return NULL;
}

int64_t pnl_chain_cost_msat(bool found, int64_t fee_msat,
			    int64_t fallback_msat)
{
	int64_t v = found ? fee_msat : fallback_msat;

	if (v < 0)
		return 0;
	if (v > CHAIN_COST_CAP_MSAT)
		return CHAIN_COST_CAP_MSAT;
	return v;
}
