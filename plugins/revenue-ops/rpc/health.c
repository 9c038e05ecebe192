/* revenue-health: in one call, is the node earning and is the plugin
 * alive (spec §2.1, §6.4). Read only: it writes nothing and pushes
 * nothing (the reference's version pushed to the datastore and released
 * reservations as a side effect, defect 38). */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/accounting.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/forwards.h"
#include <math.h>
#include <string.h>

/* A channel's fee has converged once its posterior is this narrow. */
#define CONVERGED_STD_PPM 50.0
#define TOP_ROUTES 5
#define TOP_ROUTES_MIN_FORWARDS 2

static json_t *pct2(double v)
{
	return json_real(isfinite(v) ? round(v * 100.0) / 100.0 : 0.0);
}

/* {revenue_sats, costs_sats, net_profit_sats, forward_count, volume_sats}
 * from @since; with @ratios, the week's margin and return on capital. */
static json_t *financials_json(struct revenue *r, const struct acct_live *v,
			       uint64_t since, uint32_t days, bool ratios,
			       char **err)
{
	struct acct_period p;
	json_t *o;

	if (!acct_period_compute(r, v, since, days, &p, err))
		return NULL;
	o = json_pack(
	    "{s:I,s:I,s:I,s:I,s:I,s:I}", "since", (json_int_t)since,
	    "revenue_sats",
	    (json_int_t)pnl_msat_to_sat_ceil(p.po.gross_revenue_msat),
	    "costs_sats", (json_int_t)pnl_msat_to_sat_ceil(p.pr.opex_msat),
	    "net_profit_sats",
	    (json_int_t)pnl_msat_to_sat_trunc(p.pr.net_profit_msat),
	    "forward_count", (json_int_t)p.rev.count, "volume_sats",
	    (json_int_t)pnl_msat_to_sat_floor(p.rev.vol_msat));
	if (ratios) {
		json_object_set_new(o, "operating_margin_pct",
				    pct2(p.pr.operating_margin_pct));
		json_object_set_new(o, "annualized_roc_pct",
				    pct2(p.pr.annualized_roc_pct));
	}
	return o;
}

static json_t *channels_json(const struct acct_chan_pnl *arr, size_t n)
{
	size_t count[PNL_CLASS_NUM] = {0};
	json_t *cls = json_object();

	for (size_t i = 0; i < n; i++)
		count[arr[i].res.cls]++;
	for (int c = 0; c < PNL_CLASS_NUM; c++)
		json_object_set_new(cls, pnl_class_name(c),
				    json_integer((json_int_t)count[c]));
	return json_pack("{s:I,s:o}", "total", (json_int_t)n,
			 "classifications", cls);
}

/* The fee controller's progress: channels it has learned state for, how
 * many have converged, and how many the last cycle held (inside their
 * observation window, or holding a fee someone else set). */
static json_t *fees_json(struct revenue *r, const struct acct_live *v,
			 char **err)
{
	struct fee_ctl_params params;
	size_t managed = 0, converged = 0, held = 0;

	params_fee_ctl(&r->cfg, &params);
	for (size_t i = 0; i < v->n; i++) {
		const struct chan_info *ci = &v->chans[i].ci;
		const struct fee_last *last;
		struct fee_ctl_state st;
		struct fee_ctl_posterior post;
		bool found;

		if (!ci->active)
			continue;
		if (!fee_state_load(r, ci->scid, ci->channel_id, &st, &found,
				    err))
			return NULL;
		if (!found)
			continue;
		managed++;
		fee_ctl_posterior(&params, &st, v->now, &post);
		if (!post.from_prior && post.std_ppm < CONVERGED_STD_PPM)
			converged++;
		last = pipeline_fee_last(r, ci->scid);
		if (last && last->skip_reason &&
		    (!strcmp(last->skip_reason, "waiting_time") ||
		     !strcmp(last->skip_reason, "waiting_forwards") ||
		     !strcmp(last->skip_reason, "external_hold")))
			held++;
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:f}", "managed_channels",
			 (json_int_t)managed, "converged",
			 (json_int_t)converged, "still_learning",
			 (json_int_t)(managed - converged), "sleeping",
			 (json_int_t)held, "converged_below_std_ppm",
			 CONVERGED_STD_PPM);
}

/* Rebalancing spend against the daily budget over the last 24 hours. */
static json_t *budget_json(struct revenue *r, uint64_t now, char **err)
{
	uint64_t spent_msat;
	int64_t budget = cfg_i(&r->cfg, CFG_DAILY_BUDGET_SATS);
	int64_t spent, remaining;

	if (!accounting_rebalance_spent(r, now > ACCT_DAY ? now - ACCT_DAY : 0,
					&spent_msat, err))
		return NULL;
	spent = pnl_msat_to_sat_ceil((int64_t)spent_msat);
	remaining = budget > spent ? budget - spent : 0;
	return json_pack("{s:I,s:I,s:I,s:{s:I},s:o,s:I}",
			 "effective_budget_sats", (json_int_t)budget,
			 "total_spent_sats", (json_int_t)spent,
			 "remaining_sats", (json_int_t)remaining,
			 "spent_by_category", "rebalance", (json_int_t)spent,
			 "utilization_pct",
			 pct2(budget > 0 ? 100.0 * (double)spent /
					       (double)budget
					 : 0.0),
			 "window_hours", (json_int_t)24);
}

static void top_route(const char *in_scid, const char *out_scid,
		      int64_t fee_msat, uint64_t n, void *arg)
{
	json_array_append_new(
	    arg, json_pack("{s:s,s:s,s:I,s:I,s:I}", "in_channel", in_scid,
			   "out_channel", out_scid, "fee_sats_7d",
			   (json_int_t)pnl_msat_to_sat_ceil(fee_msat),
			   "fee_msat_7d", (json_int_t)fee_msat, "forward_count",
			   (json_int_t)n));
}

/* The most lucrative (in, out) pairs of the last 7 days. Raw forwards
 * cover them: retention is at least 8 days. */
static json_t *top_routes_json(struct revenue *r, uint64_t now, char **err)
{
	json_t *routes = json_array();

	if (!forwards_top_routes(r, now - 7 * ACCT_DAY, TOP_ROUTES_MIN_FORWARDS,
				 TOP_ROUTES, top_route, routes, err)) {
		json_decref(routes);
		return NULL;
	}
	return routes;
}

static json_t *loops_json(struct revenue *r)
{
	const struct cycle *cycles[] = {r->pipe ? r->pipe->flow : NULL,
					r->pipe ? r->pipe->fee : NULL,
					accounting_cycle(r)};
	json_t *threads = json_object(), *stalled = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(cycles); i++) {
		bool s;
		if (!cycles[i])
			continue;
		json_object_set_new(threads, cycle_name(cycles[i]),
				    cycle_health_json(cycles[i], &s));
		if (s)
			json_array_append_new(
			    stalled, json_string(cycle_name(cycles[i])));
	}
	return json_pack("{s:o,s:b,s:o,s:I}", "threads", threads,
			 "all_alive", json_array_size(stalled) == 0,
			 "stalled", stalled, "min_stall_threshold_seconds",
			 (json_int_t)CYCLE_MIN_STALL_SEC);
}

static void health_live(struct revenue *r, struct acct_live *v,
			const char *lerr, void *arg)
{
	struct command *cmd = arg;
	struct acct_chan_pnl *arr = NULL;
	size_t n = 0;
	char *err = NULL;
	json_t *res, *today, *week, *fees, *budget, *routes;

	if (!v) {
		command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", lerr);
		return;
	}
	if (!acct_chan_pnls(r, v, NULL, &arr, &n, &err)) {
		command_fail(cmd, ERR_DATABASE, NULL, "database: %s", err);
		free(err);
		acct_live_free(v);
		return;
	}
	today = financials_json(r, v, v->now - v->now % ACCT_DAY, 1, false,
				&err);
	week = today ? financials_json(r, v, v->now - 7 * ACCT_DAY, 7, true,
				       &err)
		     : NULL;
	fees = week ? fees_json(r, v, &err) : NULL;
	budget = fees ? budget_json(r, v->now, &err) : NULL;
	routes = budget ? top_routes_json(r, v->now, &err) : NULL;
	if (!routes) {
		json_decref(today);
		json_decref(week);
		json_decref(fees);
		json_decref(budget);
		command_fail(cmd, ERR_DATABASE, NULL, "database: %s", err);
		free(err);
	} else {
		res = json_pack(
		    "{s:I,s:{s:o,s:o},s:o,s:o,s:{s:b,s:n,s:s,s:I},s:o,s:o,"
		    "s:o,s:b,s:b}",
		    "generated_at", (json_int_t)v->now, "financials", "today",
		    today, "week", week, "channels", channels_json(arr, n),
		    "fees", fees, "rebalancer", "available", 0, "last_action",
		    "last_reason", "this version has no rebalancer",
		    "active_jobs", (json_int_t)0, "budget", budget,
		    "top_routes", routes, "loops", loops_json(r), "dry_run",
		    cfg_b(&r->cfg, CFG_DRY_RUN), "paused",
		    cfg_b(&r->cfg, CFG_PAUSED));
		command_ok(cmd, res);
	}
	acct_chan_pnls_free(arr, n);
	acct_live_free(v);
}

void json_revenue_health(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};
	struct revenue *r = plugin_app(command_plugin(cmd));

	if (!command_params(cmd, params, none))
		return;
	if (!r->db || !r->acct || !r->pipe) {
		command_fail(cmd, ERR_NOT_READY, NULL,
			     "cl-revenue-ops is not initialised");
		return;
	}
	acct_live_fetch(r, command_id(cmd), ACCT_LIVE_FUNDS, health_live,
			cmd);
}
