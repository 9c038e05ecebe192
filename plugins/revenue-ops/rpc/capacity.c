#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/cycle/acct_report.h"
#include "plugins/revenue-ops/rpc/reports.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

/* revenue-capacity-report:
 *
 * The reference ran its capacity planner here (and mutated state while
 * doing so: defect 38). This is the read-only analysis it was meant to
 * be, on §4.14's rules:
 *   winner: ROI > 20 % (rebalance costs included, so "after the
 *           rebalance penalty"), 30-day turnover (volume in + out over
 *           capacity) > 0.5, and directional demand |flow_ratio| > 0.8,
 *           where flow_ratio = (out - in) / (out + in) over 30 days:
 *           more capacity there would earn more;
 *   loser:  zombie, stagnant_candidate, a hard bleeder, or dead capital
 *           (no forward in 30 days after 30 days open).
 * Recommendations: grow winners (splice in or open a parallel channel),
 * close zombies and hard bleeders (only channels we opened: a
 * remote-opened channel cost us nothing and keeps bringing inbound),
 * cut fees on stagnant and dead ones first. */

#define WINNER_ROI 0.20
#define WINNER_TURNOVER 0.5
#define WINNER_FLOW 0.8

static void capacity_live(struct revenue *r, struct acct_live *v,
			  const char *err, void *arg)
{
	struct command *cmd = arg;
	struct acct_chan_pnl *arr = NULL;
	size_t n = 0;
	json_t *winners, *losers, *recs, *res;
	uint64_t loser_cap = 0, winner_cap = 0;
	char *e = NULL;

	if (!v) {
		reports_fail_live(cmd, err);
		return;
	}
	if (!acct_chan_pnls(r, v, NULL, &arr, &n, &e)) {
		reports_fail_db(cmd, e);
		acct_live_free(v);
		return;
	}
	winners = json_array();
	losers = json_array();
	recs = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct acct_chan_pnl *p = &arr[i];
		const struct acct_fwd *f = &p->x.fwd;
		double out = (double)f->out[ACCT_W_30D].vol_msat;
		double in = (double)f->in[ACCT_W_30D].vol_msat;
		double cap = (double)p->o.capacity_sat * 1000.0;
		double turnover = cap > 0 ? (out + in) / cap : 0;
		double flow = out + in > 0 ? (out - in) / (out + in) : 0;
		const char *scid = p->c->ci.scid, *peer = p->c->ci.peer_id;
		const char *why = NULL, *action = NULL;
		bool dead = f->out[ACCT_W_30D].count == 0 &&
			    f->in[ACCT_W_30D].count == 0 &&
			    p->res.days_open >= 30;

		if (p->res.roi > WINNER_ROI && turnover > WINNER_TURNOVER &&
		    fabs(flow) > WINNER_FLOW) {
			winner_cap += p->o.capacity_sat;
			json_array_append_new(
			    winners,
			    json_pack(
				"{s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:s}",
				"channel_id", scid, "peer_id", peer,
				"capacity_sats", (json_int_t)p->o.capacity_sat,
				"roi_pct", num2(p->res.roi_pct), "turnover_30d",
				num4(turnover), "flow_ratio_30d", num4(flow),
				"net_profit_sats",
				sat_trunc(p->res.net_profit_msat), "reason",
				flow > 0 ? "drains out profitably: "
					   "outbound demand exceeds "
					   "its capacity"
					 : "fills profitably: inbound "
					   "demand exceeds its "
					   "capacity"));
			json_array_append_new(
			    recs,
			    json_pack("{s:s,s:s,s:s,s:s}", "action",
				      "increase_capacity", "channel_id", scid,
				      "peer_id", peer, "reason",
				      "profitable with directional demand: "
				      "splice in or open a parallel "
				      "channel"));
			continue;
		}
		if (p->res.cls == PNL_ZOMBIE) {
			why = "zombie: no demand even at the lowest fees";
			action = "close";
		} else if (p->res.bleeder == PNL_BLEEDER_HARD) {
			why = "hard bleeder: rebalancing costs far exceed "
			      "what it earns";
			action = "close";
		} else if (p->res.cls == PNL_STAGNANT) {
			why = "stagnant: inactive and underwater";
			action = "reduce_fees";
		} else if (dead) {
			why = "dead capital: no forward in 30 days";
			action = "reduce_fees";
		} else {
			continue;
		}
		/* A channel the peer opened cost us nothing to open and
		 * brings inbound: never recommend closing it outright. */
		if (!strcmp(action, "close") &&
		    p->o.opener == PNL_OPENER_REMOTE)
			action = "reduce_fees";
		loser_cap += p->o.capacity_sat;
		json_array_append_new(
		    losers,
		    json_pack(
			"{s:s,s:s,s:I,s:I,s:s,s:s,s:o,s:i,s:s}", "channel_id",
			scid, "peer_id", peer, "capacity_sats",
			(json_int_t)p->o.capacity_sat, "local_sats",
			(json_int_t)(p->c->ci.to_us_msat / 1000),
			"profitability_class", pnl_class_name(p->res.cls),
			"bleeder_status", pnl_bleeder_name(p->res.bleeder),
			"net_profit_sats", sat_trunc(p->res.net_profit_msat),
			"days_inactive", (int)p->res.days_inactive, "reason",
			why));
		json_array_append_new(
		    recs,
		    json_pack("{s:s,s:s,s:s,s:s,s:I}", "action", action,
			      "channel_id", scid, "peer_id", peer, "reason",
			      why, "capital_freed_sats",
			      !strcmp(action, "close")
				  ? (json_int_t)(p->c->ci.to_us_msat / 1000)
				  : 0));
	}
	res = json_object();
	set(res, "status", json_string("ok"));
	set(res, "read_only", json_true());
	set(res, "generated_at", json_integer((json_int_t)v->now));
	set(res, "summary",
	    json_pack("{s:I,s:I,s:I,s:I,s:I}", "channels_analyzed",
		      (json_int_t)n, "winner_count",
		      (json_int_t)json_array_size(winners), "loser_count",
		      (json_int_t)json_array_size(losers),
		      "winner_capacity_sats", (json_int_t)winner_cap,
		      "loser_capacity_sats", (json_int_t)loser_cap));
	set(res, "criteria",
	    json_pack("{s:f,s:f,s:f,s:i,s:i}", "winner_min_roi_pct",
		      WINNER_ROI * 100, "winner_min_turnover_30d",
		      WINNER_TURNOVER, "winner_min_abs_flow_ratio", WINNER_FLOW,
		      "inactive_days", 7, "dead_capital_days", 30));
	set(res, "winners", winners);
	set(res, "losers", losers);
	set(res, "recommendations", recs);
	acct_chan_pnls_free(arr, n);
	acct_live_free(v);
	command_ok(cmd, res);
}

void json_revenue_capacity_report(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};

	if (!command_params(cmd, params, none) || !reports_ready(cmd))
		return;
	acct_live_fetch(reports_revenue(cmd), command_id(cmd), 0,
			capacity_live, cmd);
}
