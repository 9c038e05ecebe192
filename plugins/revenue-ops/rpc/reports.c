/* What the accounting and report RPCs share (reports.h), and
 * revenue-profitability and revenue-dashboard.
 *
 * Each report fetches a live view of the node (acct_live_fetch), computes
 * every number from the database and engine/pnl.h in msat, and converts
 * to sat only in the output (cycle/acct_report.h). Nothing here writes. */
#include "plugins/revenue-ops/rpc/reports.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/cycle/acct_report.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/acct_archive.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_WINDOW_DAYS 365

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

struct revenue *reports_revenue(struct command *cmd)
{
	return plugin_app(command_plugin(cmd));
}

bool reports_ready(struct command *cmd)
{
	struct revenue *r = reports_revenue(cmd);

	if (!r->db || !r->acct) {
		command_fail(cmd, ERR_NOT_READY, NULL,
			     "cl-revenue-ops is not initialised");
		return false;
	}
	return true;
}

void reports_fail_db(struct command *cmd, char *err)
{
	command_fail(cmd, ERR_DATABASE, NULL, "database: %s", err);
	free(err);
}

void reports_fail_live(struct command *cmd, const char *err)
{
	/* err is "<method>: <message> (code N)" */
	command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", err);
}

bool reports_window_param(struct command *cmd, bool present, int64_t days)
{
	if (present && (days < 1 || days > MAX_WINDOW_DAYS)) {
		command_fail(
		    cmd, ERR_INVALID_PARAMS,
		    json_pack("{s:I}", "window_days", (json_int_t)days),
		    "window_days: must be between 1 and %d (got "
		    "%lld)",
		    MAX_WINDOW_DAYS, (long long)days);
		return false;
	}
	return true;
}

static json_t *flow_json(uint64_t count, int64_t vol, const char *fee_key,
			 int64_t fee)
{
	json_t *o = json_object();
	set(o, "payment_count", json_integer((json_int_t)count));
	set(o, "volume_sats", sat_floor(vol));
	set(o, fee_key, sat_ceil(fee));
	return o;
}

json_t *reports_profitability_json(const struct acct_chan_pnl *p)
{
	const struct pnl_channel_obs *o = &p->o;
	const struct pnl_channel_result *res = &p->res;
	const struct acct_obs_extra *x = &p->x;
	struct pnl_params params;
	bool to_floor;
	double mult;
	json_t *j = json_object(), *w, *thr;

	acct_pnl_params(&params);
	mult = pnl_fee_adjustment(&params, res->cls, res->roi, &to_floor);
	set(j, "total_costs_sats", sat_ceil(res->total_cost_msat));
	set(j, "total_contribution_sats",
	    sat_ceil(res->total_contribution_msat));
	set(j, "net_profit_sats", sat_trunc(res->net_profit_msat));
	set(j, "roi_percentage", num2(res->roi_pct));
	set(j, "profitability_class", json_string(pnl_class_name(res->cls)));
	set(j, "class_reason", json_string(res->class_reason));
	set(j, "days_active", json_integer(res->days_open));
	set(j, "fee_multiplier", num2(mult));
	set(j, "fee_to_floor", json_boolean(to_floor));
	set(j, "outbound_flow",
	    flow_json(o->forward_count, o->volume_routed_msat,
		      "revenue_earned_sats", o->fees_earned_msat));
	set(j, "inbound_flow",
	    flow_json(o->sourced_forward_count, o->sourced_volume_msat,
		      "contribution_to_other_channels_sats",
		      o->sourced_fee_msat));
	set(j, "flow_profile",
	    json_string(
		acct_flow_profile(o->sourced_forward_count, o->forward_count)));
	set(j, "inbound_outbound_ratio",
	    o->forward_count ? num2((double)o->sourced_forward_count /
				    (double)o->forward_count)
			     : json_string("infinite"));
	set(j, "total_revenue_sats", sat_ceil(o->fees_earned_msat));
	set(j, "volume_routed_sats", sat_floor(o->volume_routed_msat));
	set(j, "forward_count", json_integer(o->forward_count));
	set(j, "sourced_forward_count", json_integer(o->sourced_forward_count));
	set(j, "total_forward_count",
	    json_integer((json_int_t)o->forward_count +
			 o->sourced_forward_count));
	set(j, "fees_earned_sats", sat_ceil(o->fees_earned_msat));
	set(j, "sourced_fee_contribution_sats", sat_ceil(o->sourced_fee_msat));
	set(j, "sourced_volume_sats", sat_floor(o->sourced_volume_msat));
	/* Beyond the reference: where each number came from. */
	set(j, "capacity_sats", json_integer((json_int_t)o->capacity_sat));
	set(j, "opener", json_string(acct_opener_name(o->opener)));
	set(j, "opened_at", json_integer((json_int_t)o->opened_sec));
	set(j, "open_cost_sats", sat_ceil(res->open_cost_counted_msat));
	set(j, "open_cost_source", json_string(x->open.source));
	set(j, "rebalance_cost_sats", sat_ceil(o->rebalance_cost_msat));
	set(j, "splice_cost_sats", sat_ceil(o->splice_cost_msat));
	set(j, "last_routed",
	    o->last_routed_sec ? json_integer((json_int_t)o->last_routed_sec)
			       : json_null());
	set(j, "days_inactive", json_integer(res->days_inactive));
	thr = json_object();
	set(thr, "profitable_roi_pct", num2(res->profitable_threshold * 100));
	set(thr, "underwater_roi_pct", num2(res->underwater_threshold * 100));
	set(j, "thresholds", thr);
	set(j, "marginal_roi_pct", num2(res->marginal_roi_pct));
	set(j, "marginal_roi_reliable", json_boolean(res->marginal_reliable));
	set(j, "operationally_profitable",
	    json_boolean(res->operationally_profitable));
	set(j, "annualized_roc_pct",
	    num2(pnl_roc_pct(res->net_profit_msat, o->capacity_sat,
			     res->days_open)));
	set(j, "cost_per_sat_routed", num4(res->cost_per_sat_routed));
	set(j, "fee_per_sat_routed", num4(res->fee_per_sat_routed));
	set(j, "bleeder_status", json_string(pnl_bleeder_name(res->bleeder)));
	set(j, "bleeder_reason", json_string(res->bleeder_reason));
	w = json_object();
	set(w, "fees_earned_sats", sat_ceil(o->fees_earned_30d_msat));
	set(w, "sourced_fee_sats", sat_ceil(o->sourced_fee_30d_msat));
	set(w, "contribution_sats", sat_ceil(res->contribution_30d_msat));
	set(w, "forward_count", json_integer(o->forward_count_30d));
	set(w, "sourced_forward_count",
	    json_integer((json_int_t)x->fwd.in[ACCT_W_30D].count));
	set(w, "volume_routed_sats",
	    sat_floor(x->fwd.out[ACCT_W_30D].vol_msat));
	set(w, "rebalance_cost_sats", sat_ceil(o->rebalance_cost_30d_msat));
	set(w, "marginal_profit_sats",
	    sat_trunc(res->marginal_profit_30d_msat));
	set(j, "window_30d", w);
	return j;
}

/* The all-channels summary (revenue-profitability, revenue-report). */
json_t *reports_summary_json(const struct acct_chan_pnl *v, size_t n,
			    json_t **by_class_out)
{
	static const char *const count_keys[PNL_CLASS_NUM] = {
	    [PNL_PROFITABLE] = "profitable_count",
	    [PNL_BREAK_EVEN] = "break_even_count",
	    [PNL_UNDERWATER] = "underwater_count",
	    [PNL_STAGNANT] = "stagnant_candidate_count",
	    [PNL_ZOMBIE] = "zombie_count",
	};
	size_t counts[PNL_CLASS_NUM] = {0}, prof[4] = {0};
	size_t hard = 0, soft = 0;
	int64_t revenue = 0, contribution = 0, costs = 0, net;
	json_t *s = json_object(), *by = json_object(), *fp;

	for (int c = 0; c < PNL_CLASS_NUM; c++)
		set(by, pnl_class_name((enum pnl_class)c), json_array());
	for (size_t i = 0; i < n; i++) {
		const char *profile = acct_flow_profile(
		    v[i].o.sourced_forward_count, v[i].o.forward_count);
		counts[v[i].res.cls]++;
		prof[!strcmp(profile, "inbound_dominant")    ? 0
		     : !strcmp(profile, "outbound_dominant") ? 1
		     : !strcmp(profile, "balanced")	     ? 2
							     : 3]++;
		hard += v[i].res.bleeder == PNL_BLEEDER_HARD;
		soft += v[i].res.bleeder == PNL_BLEEDER_SOFT;
		/* Node revenue counts exit fees only: a forward's fee is
		 * earned once, though two channels "contributed". */
		revenue += v[i].o.fees_earned_msat;
		contribution += v[i].res.total_contribution_msat;
		costs += v[i].res.total_cost_msat;
		json_array_append_new(
		    json_object_get(by, pnl_class_name(v[i].res.cls)),
		    report_class_entry_json(&v[i]));
	}
	net = revenue - costs;
	set(s, "total_channels", json_integer((json_int_t)n));
	for (int c = 0; c < PNL_CLASS_NUM; c++)
		set(s, count_keys[c], json_integer((json_int_t)counts[c]));
	set(s, "total_profit_sats", sat_trunc(net));
	set(s, "total_revenue_sats", sat_ceil(revenue));
	set(s, "total_contribution_sats", sat_ceil(contribution));
	set(s, "total_costs_sats", sat_ceil(costs));
	set(s, "overall_roi_pct",
	    num2(costs > 0 ? (double)net / (double)costs * 100.0 : 0));
	fp = json_object();
	set(fp, "inbound_dominant_count", json_integer((json_int_t)prof[0]));
	set(fp, "outbound_dominant_count", json_integer((json_int_t)prof[1]));
	set(fp, "balanced_count", json_integer((json_int_t)prof[2]));
	set(fp, "inactive_count", json_integer((json_int_t)prof[3]));
	set(s, "flow_profiles", fp);
	set(s, "bleeder_count", json_integer((json_int_t)(hard + soft)));
	set(s, "hard_bleeder_count", json_integer((json_int_t)hard));
	if (by_class_out)
		*by_class_out = by;
	else
		json_decref(by);
	return s;
}

/* An archived channel as reports show it. */
json_t *reports_closed_json(const struct acct_closed_row *c)
{
	json_t *j = json_object();
	int64_t cost = c->open_cost_msat + c->closure_cost_msat +
		       c->splice_cost_msat + c->rebalance_cost_msat;

	set(j, "channel_id", json_string(c->scid));
	set(j, "full_channel_id", json_string(c->channel_id));
	set(j, "peer_id", json_string(c->peer_id));
	set(j, "capacity_sats", json_integer((json_int_t)c->capacity_sat));
	set(j, "opener", json_string(c->opener));
	set(j, "closer", json_string(c->closer));
	set(j, "close_type", json_string(c->close_type));
	set(j, "opened_at", json_integer((json_int_t)c->opened_at));
	set(j, "closed_at", json_integer((json_int_t)c->closed_at));
	set(j, "days_open", json_integer(c->days_open));
	set(j, "open_cost_sats", sat_ceil(c->open_cost_msat));
	set(j, "closure_cost_sats", sat_ceil(c->closure_cost_msat));
	set(j, "splice_cost_sats", sat_ceil(c->splice_cost_msat));
	set(j, "rebalance_cost_sats", sat_ceil(c->rebalance_cost_msat));
	set(j, "total_costs_sats", sat_ceil(cost));
	set(j, "total_revenue_sats", sat_ceil(c->revenue_msat));
	set(j, "sourced_fee_contribution_sats", sat_ceil(c->sourced_fee_msat));
	set(j, "volume_routed_sats", sat_floor(c->volume_routed_msat));
	set(j, "forward_count", json_integer((json_int_t)c->forward_count));
	set(j, "sourced_forward_count",
	    json_integer((json_int_t)c->sourced_forward_count));
	set(j, "net_pnl_sats", sat_trunc(c->net_pnl_msat));
	set(j, "annualized_roc_pct",
	    num2(pnl_roc_pct(c->net_pnl_msat, c->capacity_sat, c->days_open)));
	set(j, "cleaned", json_boolean(c->cleaned_at != 0));
	return j;
}

/* ---- lifetime (revenue-history and the summary report) ---- */


bool reports_lifetime(struct revenue *r, const struct acct_live *v,
		      struct reports_lifetime *lt, char **err)
{
	struct pnl_lifetime_obs lo;
	struct acct_costs c;
	const char *e;

	memset(lt, 0, sizeof(*lt));
	if (!acct_db_node_fwd(r->db, 0, &lt->rev, err) ||
	    !acct_lifetime_costs(r, v, &c, err))
		return false;
	lt->open_msat = c.open_msat;
	lt->closure_msat = c.closure_msat;
	lt->splice_msat = c.splice_msat;
	lt->rebalance_msat = c.rebalance_msat;
	lo = (struct pnl_lifetime_obs){
	    .revenue_msat = lt->rev.fee_msat,
	    .open_cost_msat = lt->open_msat,
	    .close_cost_msat = lt->closure_msat,
	    .splice_cost_msat = lt->splice_msat,
	    .rebalance_cost_msat = lt->rebalance_msat,
	};
	e = pnl_lifetime(&lo, &lt->res);
	if (e) {
		*err = xstrdup(e);
		return false;
	}
	return true;
}

/* ---- revenue-profitability ---- */

struct prof_req {
	struct command *cmd;
	char scid_buf[24]; /* "" for every channel */
};

static void prof_live(struct revenue *r, struct acct_live *v, const char *err,
		      void *arg)
{
	struct prof_req *q = arg;
	struct command *cmd = q->cmd;
	struct acct_chan_pnl *arr;
	size_t n;
	char *e = NULL;
	json_t *res;

	if (!v) {
		reports_fail_live(cmd, err);
		free(q);
		return;
	}
	if (q->scid_buf[0]) {
		struct acct_closed_row closed;
		for (size_t i = 0; i < v->n; i++) {
			struct acct_chan_pnl p;
			if (strcmp(v->chans[i].ci.scid, q->scid_buf) ||
			    !v->chans[i].ci.active)
				continue;
			if (!acct_chan_pnl_compute(r, &v->chans[i], v->now, NULL, &p,
					      &e)) {
				reports_fail_db(cmd, e);
				goto out;
			}
			res = json_pack("{s:s,s:s,s:o}", "channel_id",
					q->scid_buf, "peer_id",
					v->chans[i].ci.peer_id, "profitability",
					reports_profitability_json(&p));
			acct_obs_extra_free(&p.x);
			command_ok(cmd, res);
			goto out;
		}
		if (!acct_db_closed_find(r->db, NULL, q->scid_buf, &closed,
					 &e)) {
			reports_fail_db(cmd, e);
			goto out;
		}
		if (closed.found) {
			command_ok(cmd,
				   json_pack("{s:s,s:s,s:b,s:o}", "channel_id",
					     q->scid_buf, "peer_id",
					     closed.peer_id, "closed", true,
					     "closed_channel",
					     reports_closed_json(&closed)));
			goto out;
		}
		command_fail(cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "channel_id", q->scid_buf),
			     "Unknown channel %s: not an open channel of this "
			     "node, nor an archived one",
			     q->scid_buf);
		goto out;
	}
	if (!acct_chan_pnls(r, v, NULL, &arr, &n, &e)) {
		reports_fail_db(cmd, e);
		goto out;
	}
	{
		json_t *by;
		json_t *s = reports_summary_json(arr, n, &by);
		res = json_object();
		set(res, "summary", s);
		set(res, "channels_by_class", by);
		set(res, "generated_at", json_integer((json_int_t)v->now));
		command_ok(cmd, res);
	}
	acct_chan_pnls_free(arr, n);
out:
	acct_live_free(v);
	free(q);
}

void json_revenue_profitability(struct command *cmd, const json_t *params)
{
	const char *scid = NULL;
	bool refresh = false;
	const struct param specs[] = {
	    {"channel_id", PARAM_SCID, false, &scid},
	    /* Accepted for compatibility: every call computes afresh. */
	    {"refresh", PARAM_BOOL, false, &refresh},
	    {NULL},
	};
	struct prof_req *q;

	if (!command_params(cmd, params, specs) || !reports_ready(cmd))
		return;
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	if (scid)
		snprintf(q->scid_buf, sizeof(q->scid_buf), "%s", scid);
	acct_live_fetch(reports_revenue(cmd), command_id(cmd), 0,
			prof_live, q);
}

/* ---- revenue-dashboard ---- */

struct dash_req {
	struct command *cmd;
	uint32_t days;
};

static void dash_live(struct revenue *r, struct acct_live *v, const char *err,
		      void *arg)
{
	struct dash_req *q = arg;
	struct acct_chan_pnl *arr = NULL;
	size_t n = 0;
	char *e = NULL;
	json_t *res;

	if (!v) {
		reports_fail_live(q->cmd, err);
		free(q);
		return;
	}
	if (!acct_chan_pnls(r, v, NULL, &arr, &n, &e)) {
		reports_fail_db(q->cmd, e);
		goto out;
	}
	res = report_dashboard_json(r, v, arr, n, q->days, &e);
	acct_chan_pnls_free(arr, n);
	if (!res)
		reports_fail_db(q->cmd, e);
	else
		command_ok(q->cmd, res);
out:
	acct_live_free(v);
	free(q);
}

void json_revenue_dashboard(struct command *cmd, const json_t *params)
{
	int64_t days = 30;
	bool have = false;
	const struct param specs[] = {
	    {"window_days", PARAM_INT, false, &days, &have},
	    {NULL},
	};
	struct dash_req *q;

	if (!command_params(cmd, params, specs) ||
	    !reports_window_param(cmd, have, days) || !reports_ready(cmd))
		return;
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	q->days = (uint32_t)days;
	acct_live_fetch(reports_revenue(cmd), command_id(cmd), ACCT_LIVE_FUNDS,
			dash_live, q);
}
