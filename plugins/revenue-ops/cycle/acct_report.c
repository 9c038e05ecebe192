/* The accounting figures as the reports show them; see acct_report.h. */
#include "plugins/revenue-ops/cycle/acct_report.h"
#include "common/util.h"
#include "plugins/revenue-ops/cycle/acct_parse.h"
#include <math.h>
#include <string.h>

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

json_t *report_class_entry_json(const struct acct_chan_pnl *p)
{
	const struct pnl_channel_obs *o = &p->o;
	json_t *j = json_object();

	set(j, "channel_id", json_string(p->c->ci.scid));
	set(j, "peer_id", json_string(p->c->ci.peer_id));
	set(j, "net_profit_sats", sat_trunc(p->res.net_profit_msat));
	set(j, "roi_percentage", num2(p->res.roi_pct));
	set(j, "days_active", json_integer(p->res.days_open));
	set(j, "flow_profile",
	    json_string(
		acct_flow_profile(o->sourced_forward_count, o->forward_count)));
	set(j, "forward_count", json_integer(o->forward_count));
	set(j, "sourced_forward_count", json_integer(o->sourced_forward_count));
	set(j, "fees_earned_sats", sat_ceil(o->fees_earned_msat));
	set(j, "volume_routed_sats", sat_floor(o->volume_routed_msat));
	set(j, "total_forward_count",
	    json_integer((json_int_t)o->forward_count +
			 o->sourced_forward_count));
	set(j, "sourced_fee_contribution_sats", sat_ceil(o->sourced_fee_msat));
	set(j, "sourced_volume_sats", sat_floor(o->sourced_volume_msat));
	set(j, "total_contribution_sats",
	    sat_ceil(p->res.total_contribution_msat));
	set(j, "marginal_roi_pct", num2(p->res.marginal_roi_pct));
	set(j, "bleeder_status", json_string(pnl_bleeder_name(p->res.bleeder)));
	return j;
}

json_t *report_dashboard_json(struct revenue *r, const struct acct_live *v,
			      const struct acct_chan_pnl *arr, size_t n,
			      uint32_t days, char **err)
{
	uint64_t since =
	    v->now > days * ACCT_DAY ? v->now - days * ACCT_DAY : 0;
	struct acct_period per;
	const struct pnl_period_obs *po = &per.po;
	const struct pnl_period_result *pr = &per.pr;
	const struct acct_flow *rev = &per.rev;
	size_t hard = 0, soft = 0, zombies = 0;
	json_t *fh, *period, *warn, *o;

	if (!acct_period_compute(r, v, since, days, &per, err))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		hard += arr[i].res.bleeder == PNL_BLEEDER_HARD;
		soft += arr[i].res.bleeder == PNL_BLEEDER_SOFT;
		zombies += arr[i].res.cls == PNL_ZOMBIE;
	}
	fh = json_object();
	set(fh, "tlv_sats", sat_floor((int64_t)per.tlv_msat));
	set(fh, "net_profit_sats", sat_trunc(pr->net_profit_msat));
	set(fh, "operating_margin_pct", num2(pr->operating_margin_pct));
	set(fh, "annualized_roc_pct", num2(pr->annualized_roc_pct));
	period = json_object();
	set(period, "window_days", json_integer(days));
	set(period, "since", json_integer((json_int_t)since));
	set(period, "gross_revenue_sats", sat_ceil(po->gross_revenue_msat));
	set(period, "opex_sats", sat_ceil(pr->opex_msat));
	set(period, "rebalance_cost_sats", sat_ceil(po->rebalance_cost_msat));
	set(period, "closure_cost_sats", sat_ceil(po->closure_cost_msat));
	set(period, "splice_cost_sats", sat_ceil(po->splice_cost_msat));
	/* Capital spent opening channels: not opex (it buys capacity). */
	set(period, "open_cost_sats", sat_ceil(per.open_msat));
	set(period, "volume_sats", sat_floor(rev->vol_msat));
	set(period, "forward_count", json_integer((json_int_t)rev->count));
	warn = json_array();
	if (pr->net_profit_msat < 0)
		json_array_append_new(
		    warn,
		    json_sprintf("Negative operating margin over the "
				 "last %u days: costs %lld sat "
				 "exceed revenue %lld sat",
				 days,
				 (long long)pnl_msat_to_sat_ceil(pr->opex_msat),
				 (long long)pnl_msat_to_sat_ceil(
				     po->gross_revenue_msat)));
	if (rev->count == 0 && n > 0)
		json_array_append_new(
		    warn, json_sprintf("No routing revenue in the last %u "
				       "days",
				       days));
	if (hard)
		json_array_append_new(
		    warn, json_sprintf("%zu channel(s) are hard bleeders: "
				       "rebalancing costs far exceed what "
				       "they earn",
				       hard));
	if (soft)
		json_array_append_new(
		    warn, json_sprintf("%zu channel(s) are soft bleeders: "
				       "recent rebalancing costs exceed "
				       "their earnings",
				       soft));
	if (zombies)
		json_array_append_new(
		    warn, json_sprintf("%zu zombie channel(s): no demand "
				       "even at the lowest fees",
				       zombies));
	o = json_object();
	set(o, "financial_health", fh);
	set(o, "period", period);
	set(o, "warnings", warn);
	set(o, "bleeder_count", json_integer((json_int_t)(hard + soft)));
	set(o, "hard_bleeder_count", json_integer((json_int_t)hard));
	set(o, "generated_at", json_integer((json_int_t)v->now));
	return o;
}
