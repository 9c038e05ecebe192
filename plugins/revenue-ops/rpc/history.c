/* revenue-history: the node's lifetime P&L, closed channels included,
 * and the daily snapshots. Read only. */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/cycle/acct_report.h"
#include "plugins/revenue-ops/rpc/reports.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/acct_archive.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

static json_t *snapshot_json(const struct acct_snapshot *s)
{
	json_t *j = json_object();

	set(j, "timestamp", json_integer((json_int_t)s->timestamp));
	set(j, "day", json_integer((json_int_t)s->day));
	set(j, "total_local_balance_sats", sat_floor((int64_t)s->local_msat));
	set(j, "total_remote_balance_sats", sat_floor((int64_t)s->remote_msat));
	set(j, "total_onchain_sats", json_integer((json_int_t)s->onchain_sat));
	set(j, "total_capacity_sats",
	    json_integer((json_int_t)s->capacity_sat));
	set(j, "total_revenue_accumulated_sats", sat_ceil(s->revenue_msat));
	set(j, "total_costs_accumulated_sats", sat_ceil(s->costs_msat));
	set(j, "total_rebalance_cost_accumulated_sats",
	    sat_ceil(s->rebalance_msat));
	set(j, "net_profit_accumulated_sats",
	    sat_trunc(s->revenue_msat - s->costs_msat));
	set(j, "channel_count", json_integer((json_int_t)s->channel_count));
	return j;
}

static void history_live(struct revenue *r, struct acct_live *v,
			 const char *err, void *arg)
{
	struct command *cmd = arg;
	struct acct_closed_row *closed = NULL;
	struct acct_snapshot *snaps = NULL;
	size_t nclosed = 0, nsnaps = 0;
	struct reports_lifetime lt;
	int64_t cap = 0, opens = 0, closes = 0, rev = 0, rebal = 0, net = 0;
	uint64_t fwds = 0, days = 0;
	json_t *res, *cs, *list, *sl;
	char *e = NULL;

	if (!v) {
		reports_fail_live(cmd, err);
		return;
	}
	if (!reports_lifetime(r, v, &lt, &e) ||
	    !acct_db_closed_all(r->db, &closed, &nclosed, &e) ||
	    !acct_db_snapshot_list(r->db, 30, &snaps, &nsnaps, &e)) {
		reports_fail_db(cmd, e);
		goto out;
	}
	list = json_array();
	for (size_t i = nclosed; i-- > 0;) {
		const struct acct_closed_row *c = &closed[i];
		cap += (int64_t)c->capacity_sat;
		opens += c->open_cost_msat;
		closes += c->closure_cost_msat;
		rev += c->revenue_msat;
		rebal += c->rebalance_cost_msat;
		net += c->net_pnl_msat;
		fwds += c->forward_count;
		days += c->days_open;
		json_array_append_new(list, reports_closed_json(c));
	}
	cs = json_object();
	set(cs, "channel_count", json_integer((json_int_t)nclosed));
	set(cs, "total_capacity", json_integer(cap));
	set(cs, "total_open_costs", sat_ceil(opens));
	set(cs, "total_closure_costs", sat_ceil(closes));
	set(cs, "total_revenue", sat_ceil(rev));
	set(cs, "total_rebalance_costs", sat_ceil(rebal));
	set(cs, "total_forwards", json_integer((json_int_t)fwds));
	set(cs, "total_net_pnl", sat_trunc(net));
	set(cs, "avg_days_open",
	    num2(nclosed ? (double)days / (double)nclosed : 0));
	sl = json_array();
	for (size_t i = 0; i < nsnaps; i++)
		json_array_append_new(sl, snapshot_json(&snaps[i]));
	res = json_object();
	/* Forwards are never deleted (only rolled up), closed channels'
	 * included: lifetime revenue counts each fee exactly once. */
	set(res, "lifetime_revenue_sats", json_integer(lt.res.revenue_sat));
	set(res, "lifetime_opening_costs_sats", sat_ceil(lt.open_msat));
	set(res, "lifetime_closure_costs_sats", sat_ceil(lt.closure_msat));
	set(res, "lifetime_rebalance_costs_sats", sat_ceil(lt.rebalance_msat));
	set(res, "lifetime_splice_costs_sats", sat_ceil(lt.splice_msat));
	set(res, "lifetime_total_costs_sats",
	    json_integer(lt.res.total_cost_sat));
	set(res, "lifetime_net_profit_sats",
	    json_integer(lt.res.net_profit_sat));
	set(res, "lifetime_roi_percent", num2(lt.res.roi_pct));
	set(res, "lifetime_forward_count",
	    json_integer((json_int_t)lt.rev.count));
	set(res, "lifetime_volume_sats", sat_floor(lt.rev.vol_msat));
	set(res, "closed_channels_summary", cs);
	set(res, "closed_channels", list);
	set(res, "snapshots", sl);
	set(res, "generated_at", json_integer((json_int_t)v->now));
	command_ok(cmd, res);
out:
	free(closed);
	free(snaps);
	acct_live_free(v);
}

void json_revenue_history(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};

	if (!command_params(cmd, params, none) || !reports_ready(cmd))
		return;
	acct_live_fetch(reports_revenue(cmd), command_id(cmd), 0,
			history_live, cmd);
}
