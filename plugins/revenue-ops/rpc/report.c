/* revenue-report: the summary, peer, costs, policies and hive reports.
 * Read only. */
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
#include "plugins/revenue-ops/store/acct_archive.h"
#include "plugins/revenue-ops/store/flow_state.h"
#include "plugins/revenue-ops/store/policy.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

struct report_req {
	struct command *cmd;
	char type[16];
	char peer[67];
	uint32_t days;
};

static json_t *window_costs_json(struct revenue *r, enum acct_sum what,
				 uint64_t now, char **err)
{
	static const struct {
		const char *key;
		uint64_t sec;
	} windows[] = {{"last_24h_sats", ACCT_DAY},
		       {"last_7d_sats", 7 * ACCT_DAY},
		       {"last_30d_sats", 30 * ACCT_DAY},
		       {"total_sats", 0}};
	json_t *o = json_object();

	for (size_t i = 0; i < ARRAY_SIZE(windows); i++) {
		int64_t msat;
		uint64_t since = windows[i].sec && now > windows[i].sec
				     ? now - windows[i].sec
				     : 0;
		if (!acct_db_sum(r->db, what, since, &msat, err)) {
			json_decref(o);
			return NULL;
		}
		set(o, windows[i].key, sat_ceil(msat));
	}
	return o;
}

static void report_costs(struct report_req *q, struct revenue *r,
			 const struct acct_live *v)
{
	static const struct {
		const char *key;
		enum acct_sum what;
	} parts[] = {{"closure_costs", ACCT_SUM_CLOSURE},
		     {"splice_costs", ACCT_SUM_SPLICE},
		     {"open_costs", ACCT_SUM_OPEN},
		     {"rebalance_costs", ACCT_SUM_REBALANCE}};
	json_t *res = json_pack("{s:s,s:I}", "type", "costs", "generated_at",
				(json_int_t)v->now);
	char *e = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		json_t *o = window_costs_json(r, parts[i].what, v->now, &e);
		if (!o) {
			json_decref(res);
			reports_fail_db(q->cmd, e);
			return;
		}
		set(res, parts[i].key, o);
	}
	set(res, "estimated_defaults",
	    json_pack("{s:I,s:i,s:i}", "channel_open_sats",
		      (json_int_t)cfg_i(&r->cfg, CFG_ESTIMATED_OPEN_COST_SATS),
		      "channel_close_sats", ACCT_CLOSE_COST_DEFAULT_SAT,
		      "splice_sats", ACCT_SPLICE_COST_DEFAULT_SAT));
	command_ok(q->cmd, res);
}

static void report_summary(struct report_req *q, struct revenue *r,
			   const struct acct_live *v)
{
	struct acct_chan_pnl *arr = NULL;
	size_t n = 0;
	struct reports_lifetime lt;
	json_t *res, *dash, *chans, *by_state, *life;
	const char *key;
	json_t *val;
	char *e = NULL;

	if (!acct_chan_pnls(r, v, NULL, &arr, &n, &e) ||
	    !reports_lifetime(r, v, &lt, &e)) {
		acct_chan_pnls_free(arr, n);
		reports_fail_db(q->cmd, e);
		return;
	}
	dash = report_dashboard_json(r, v, arr, n, q->days, &e);
	if (!dash) {
		acct_chan_pnls_free(arr, n);
		reports_fail_db(q->cmd, e);
		return;
	}
	res = json_pack("{s:s,s:I,s:i}", "type", "summary", "generated_at",
			(json_int_t)v->now, "window_days", (int)q->days);
	life = json_object();
	set(life, "revenue_sats", json_integer(lt.res.revenue_sat));
	set(life, "total_costs_sats", json_integer(lt.res.total_cost_sat));
	set(life, "net_profit_sats", json_integer(lt.res.net_profit_sat));
	set(life, "roi_pct", num2(lt.res.roi_pct));
	set(life, "forward_count", json_integer((json_int_t)lt.rev.count));
	set(res, "lifetime", life);
	set(res, "profitability", reports_summary_json(arr, n, NULL));
	by_state = json_object();
	for (size_t i = 0; i < v->n; i++) {
		const char *st = v->chans[i].ci.state;
		json_t *c = json_object_get(by_state, st);
		set(by_state, st,
		    json_integer(c ? json_integer_value(c) + 1 : 1));
	}
	chans = json_object();
	set(chans, "total", json_integer((json_int_t)v->n));
	set(chans, "active", json_integer((json_int_t)n));
	set(chans, "by_state", by_state);
	set(res, "channels", chans);
	json_object_foreach(dash, key, val)
	{
		if (strcmp(key, "generated_at"))
			json_object_set(res, key, val);
	}
	json_decref(dash);
	acct_chan_pnls_free(arr, n);
	command_ok(q->cmd, res);
}

static void report_peer(struct report_req *q, struct revenue *r,
			const struct acct_live *v)
{
	struct acct_chan_pnl *arr = NULL;
	struct acct_closed_row *closed = NULL;
	size_t n = 0, nclosed = 0;
	json_t *res, *list, *states, *cl, *first_flow = NULL;
	char *e = NULL;
	size_t nfound = 0;

	if (!acct_chan_pnls(r, v, q->peer, &arr, &n, &e) ||
	    !acct_db_closed_all(r->db, &closed, &nclosed, &e)) {
		acct_chan_pnls_free(arr, n);
		reports_fail_db(q->cmd, e);
		return;
	}
	cl = json_array();
	for (size_t i = 0; i < nclosed; i++)
		if (!strcasecmp(closed[i].peer_id, q->peer))
			json_array_append_new(cl,
					      reports_closed_json(&closed[i]));
	for (size_t i = 0; i < v->n; i++)
		nfound += !strcasecmp(v->chans[i].ci.peer_id, q->peer);
	free(closed);
	if (nfound == 0 && json_array_size(cl) == 0) {
		json_decref(cl);
		acct_chan_pnls_free(arr, n);
		command_fail(q->cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "peer_id", q->peer),
			     "Unknown peer %s: no channel with it, open or "
			     "archived",
			     q->peer);
		return;
	}
	list = json_array();
	states = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *fs = flow_state_brief_json(r, arr[i].c->ci.scid);
		json_array_append_new(
		    list,
		    json_pack("{s:s,s:s,s:o}", "channel_id", arr[i].c->ci.scid,
			      "state", arr[i].c->ci.state, "profitability",
			      reports_profitability_json(&arr[i])));
		if (!json_is_null(fs)) {
			if (!first_flow)
				first_flow = json_incref(fs);
			json_array_append(states, fs);
		}
		json_decref(fs);
	}
	res = json_object();
	set(res, "type", json_string("peer"));
	set(res, "peer_id", json_string(q->peer));
	set(res, "policy", policy_row_json(r, q->peer));
	set(res, "profitability",
	    n ? json_incref(
		    json_object_get(json_array_get(list, 0), "profitability"))
	      : json_null());
	/* One state when the peer has one channel (N's rule); all of them
	 * in flow_states, sorted by channel. */
	set(res, "flow_state",
	    json_array_size(states) == 1 ? json_incref(first_flow)
					 : json_null());
	json_decref(first_flow);
	set(res, "flow_states", states);
	set(res, "channels", list);
	set(res, "closed_channels", cl);
	set(res, "generated_at", json_integer((json_int_t)v->now));
	acct_chan_pnls_free(arr, n);
	command_ok(q->cmd, res);
}

struct policy_tally {
	bool hive;
	json_t *by_strategy, *by_mode, *by_tag, *peers;
	size_t total;
};

static void policy_count(const char *peer, const char *s, const char *m,
			 const char *t, void *arg)
{
	struct policy_tally *q = arg;
	json_t *tags = t ? json_loads(t, 0, NULL) : NULL;
	size_t i;
	json_t *tag;

	q->total++;
	if (s) {
		json_t *c = json_object_get(q->by_strategy, s);
		set(q->by_strategy, s,
		    json_integer(c ? json_integer_value(c) + 1 : 1));
		if (q->hive && !strcmp(s, "hive") && peer)
			json_array_append_new(q->peers, json_string(peer));
	}
	if (m) {
		json_t *c = json_object_get(q->by_mode, m);
		set(q->by_mode, m,
		    json_integer(c ? json_integer_value(c) + 1 : 1));
	}
	json_array_foreach(tags, i, tag)
	{
		const char *name = json_string_value(tag);
		json_t *c;
		if (!name)
			continue;
		c = json_object_get(q->by_tag, name);
		set(q->by_tag, name,
		    json_integer(c ? json_integer_value(c) + 1 : 1));
	}
	json_decref(tags);
}

/* The policies and hive report types summarise migration 3's policy
 * table, read-only. */
static void report_policies(struct report_req *q, struct revenue *r,
			    const struct acct_live *v, bool hive)
{
	struct policy_tally t = {
	    .hive = hive,
	    .by_strategy = json_object(),
	    .by_mode = json_object(),
	    .by_tag = json_object(),
	    .peers = json_array(),
	};
	json_t *by_strategy, *by_mode, *by_tag, *peers;
	size_t total;

	policy_each_live(r, v->now, policy_count, &t);
	by_strategy = t.by_strategy;
	by_mode = t.by_mode;
	by_tag = t.by_tag;
	peers = t.peers;
	total = t.total;
	if (hive) {
		json_decref(by_strategy);
		json_decref(by_mode);
		json_decref(by_tag);
		command_ok(q->cmd, json_pack("{s:s,s:I,s:I,s:o}", "type",
					     "hive", "generated_at",
					     (json_int_t)v->now, "count",
					     (json_int_t)json_array_size(peers),
					     "peers", peers));
		return;
	}
	json_decref(peers);
	command_ok(q->cmd,
		   json_pack("{s:s,s:I,s:{s:I,s:o,s:o,s:o}}", "type",
			     "policies", "generated_at", (json_int_t)v->now,
			     "policies", "total", (json_int_t)total,
			     "by_strategy", by_strategy, "by_rebalance_mode",
			     by_mode, "by_tag", by_tag));
}

static void report_live(struct revenue *r, struct acct_live *v, const char *err,
			void *arg)
{
	struct report_req *q = arg;

	if (!v)
		reports_fail_live(q->cmd, err);
	else if (!strcmp(q->type, "summary"))
		report_summary(q, r, v);
	else if (!strcmp(q->type, "peer"))
		report_peer(q, r, v);
	else if (!strcmp(q->type, "costs"))
		report_costs(q, r, v);
	else
		report_policies(q, r, v, !strcmp(q->type, "hive"));
	acct_live_free(v);
	free(q);
}

void json_revenue_report(struct command *cmd, const json_t *params)
{
	static const char *const types[] = {"summary",	"peer", "costs",
					    "policies", "hive", NULL};
	const char *type = "summary", *peer = NULL;
	int64_t days = 30;
	bool have_days = false;
	const struct param specs[] = {
	    {"report_type", PARAM_STRING, false, &type},
	    {"peer_id", PARAM_PUBKEY, false, &peer},
	    {"window_days", PARAM_INT, false, &days, &have_days},
	    {NULL},
	};
	struct report_req *q;
	bool known = false;

	if (!command_params(cmd, params, specs) ||
	    !reports_window_param(cmd, have_days, days))
		return;
	for (size_t i = 0; types[i]; i++)
		known |= !strcmp(type, types[i]);
	if (!known) {
		command_fail(cmd, ERR_INVALID_PARAMS,
			     json_pack("{s:s,s:[s,s,s,s,s]}", "report_type",
				       type, "valid", "summary", "peer",
				       "costs", "policies", "hive"),
			     "report_type: unknown report type '%s' (valid: "
			     "summary, peer, costs, policies, hive)",
			     type);
		return;
	}
	if (!strcmp(type, "peer") && !peer) {
		command_fail(cmd, ERR_INVALID_PARAMS, NULL,
			     "peer_id: required for report_type=peer");
		return;
	}
	if (!reports_ready(cmd))
		return;
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	snprintf(q->type, sizeof(q->type), "%s", type);
	if (peer)
		snprintf(q->peer, sizeof(q->peer), "%s", peer);
	q->days = (uint32_t)days;
	acct_live_fetch(reports_revenue(cmd), command_id(cmd), ACCT_LIVE_FUNDS,
			report_live, q);
}
