/* Accounting and report RPCs: revenue-profitability, revenue-dashboard,
 * revenue-report, revenue-history, revenue-capacity-report and
 * revenue-cleanup-closed (see reports.h and doc/cl-revenue-ops.md).
 *
 * Each fetches a live view of the node (acct_live_fetch), computes every
 * number from the database and engine/pnl.h in msat, and converts to sat
 * only in the output, as the spec's §0.2 says: fees, costs and revenue
 * round up, volumes, balances and capacity down, signed nets toward
 * zero. Nothing here writes, except revenue-cleanup-closed. */
#include "plugins/revenue-ops/rpc/reports.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/cycle/acct.h"
#include "plugins/revenue-ops/store/forwards.h"
#include "plugins/revenue-ops/cycle/publish.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/store/flow_state.h"
#include "plugins/revenue-ops/store/policy.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SAT 1000LL
#define MAX_WINDOW_DAYS 365

/* ---- output helpers ---- */

static json_t *sat_ceil(int64_t msat)
{
	return json_integer(pnl_msat_to_sat_ceil(msat));
}

static json_t *sat_floor(int64_t msat)
{
	return json_integer(pnl_msat_to_sat_floor(msat));
}

static json_t *sat_trunc(int64_t msat)
{
	return json_integer(pnl_msat_to_sat_trunc(msat));
}

/* Two decimals; JSON has no NaN or infinity. */
static json_t *num2(double v)
{
	if (!isfinite(v))
		v = 0;
	return json_real(round(v * 100.0) / 100.0);
}

static json_t *num4(double v)
{
	if (!isfinite(v))
		v = 0;
	return json_real(round(v * 10000.0) / 10000.0);
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

static struct revenue *R(struct command *cmd)
{
	return plugin_app(command_plugin(cmd));
}

static bool ready(struct command *cmd)
{
	struct revenue *r = R(cmd);

	if (!r->db || !r->acct) {
		command_fail(cmd, ERR_NOT_READY, NULL,
			     "cl-revenue-ops is not initialised");
		return false;
	}
	return true;
}

static void fail_db(struct command *cmd, char *err)
{
	command_fail(cmd, ERR_DATABASE, NULL, "database: %s", err);
	free(err);
}

static void fail_live(struct command *cmd, const char *err)
{
	/* err is "<method>: <message> (code N)" */
	command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", err);
}

static bool window_param(struct command *cmd, bool present, int64_t days)
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

/* ---- per-channel P&L ---- */

void acct_chan_pnls_free(struct acct_chan_pnl *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acct_obs_extra_free(&v[i].x);
	free(v);
}

bool acct_chan_pnl_compute(struct revenue *r, const struct acct_live_chan *c,
			   uint64_t now, const struct fwd_stats *fs,
			   struct acct_chan_pnl *p, char **err)
{
	struct pnl_params params;
	struct acct_key k;
	const char *e;

	acct_pnl_params(&params);
	acct_live_key(c, &k);
	p->c = c;
	if (!acct_obs_build(r, &k, now, fs, &p->o, &p->x, err))
		return false;
	e = pnl_channel(&params, &p->o, now, &p->res);
	if (e) {
		*err = xfmt("%s: %s", c->ci.scid, e);
		acct_obs_extra_free(&p->x);
		return false;
	}
	return true;
}

bool acct_chan_pnls(struct revenue *r, const struct acct_live *v,
		    const char *peer, struct acct_chan_pnl **out, size_t *n,
		    char **err)
{
	struct acct_chan_pnl *arr;
	struct fwd_stats *fs = NULL;

	/* Every channel: their forwards in one pass. */
	if (!peer && !acct_fwd_stats(r, v->now, &fs, err))
		return false;
	arr = xzalloc(sizeof(*arr) * (v->n + 1));
	*n = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (!v->chans[i].ci.active)
			continue;
		if (peer && strcasecmp(peer, v->chans[i].ci.peer_id))
			continue;
		if (!acct_chan_pnl_compute(r, &v->chans[i], v->now, fs,
					   &arr[*n], err)) {
			acct_chan_pnls_free(arr, *n);
			forwards_stats_free(fs);
			return false;
		}
		(*n)++;
	}
	forwards_stats_free(fs);
	*out = arr;
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

static json_t *profitability_json(const struct acct_chan_pnl *p)
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

/* An entry of channels_by_class. */
static json_t *class_entry_json(const struct acct_chan_pnl *p)
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

/* The all-channels summary (revenue-profitability, revenue-report). */
static json_t *summary_json(const struct acct_chan_pnl *v, size_t n,
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
		    class_entry_json(&v[i]));
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
static json_t *closed_json(const struct acct_closed_row *c)
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
		fail_live(cmd, err);
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
				fail_db(cmd, e);
				goto out;
			}
			res = json_pack("{s:s,s:s,s:o}", "channel_id",
					q->scid_buf, "peer_id",
					v->chans[i].ci.peer_id, "profitability",
					profitability_json(&p));
			acct_obs_extra_free(&p.x);
			command_ok(cmd, res);
			goto out;
		}
		if (!acct_db_closed_find(r->db, NULL, q->scid_buf, &closed,
					 &e)) {
			fail_db(cmd, e);
			goto out;
		}
		if (closed.found) {
			command_ok(cmd,
				   json_pack("{s:s,s:s,s:b,s:o}", "channel_id",
					     q->scid_buf, "peer_id",
					     closed.peer_id, "closed", true,
					     "closed_channel",
					     closed_json(&closed)));
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
		fail_db(cmd, e);
		goto out;
	}
	{
		json_t *by;
		json_t *s = summary_json(arr, n, &by);
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

	if (!command_params(cmd, params, specs) || !ready(cmd))
		return;
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	if (scid)
		snprintf(q->scid_buf, sizeof(q->scid_buf), "%s", scid);
	acct_live_fetch(R(cmd), command_id(cmd), 0, prof_live, q);
}

/* ---- revenue-dashboard ---- */

bool acct_period_compute(struct revenue *r, const struct acct_live *v,
			 uint64_t since, uint32_t days, struct acct_period *out,
			 char **err)
{
	uint64_t local_msat = 0;
	const char *e;

	memset(out, 0, sizeof(*out));
	out->since = since;
	if (!acct_db_node_fwd(r->db, since, &out->rev, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_REBALANCE, since,
			 &out->po.rebalance_cost_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_CLOSURE, since,
			 &out->po.closure_cost_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_SPLICE, since,
			 &out->po.splice_cost_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_OPEN, since, &out->open_msat, err))
		return false;
	/* Total liquid value: what we hold in channels that are not
	 * closing, plus confirmed on-chain funds. */
	for (size_t i = 0; i < v->n; i++)
		if (!acct_state_is_closed(v->chans[i].ci.state))
			local_msat += v->chans[i].ci.to_us_msat;
	out->tlv_msat = local_msat + v->onchain_sat * 1000;
	out->po.gross_revenue_msat = out->rev.fee_msat;
	out->po.capital_sat = out->tlv_msat / 1000;
	out->po.window_days = days;
	e = pnl_period(&out->po, &out->pr);
	if (e) {
		*err = xstrdup(e);
		return false;
	}
	return true;
}

/* {financial_health, period, warnings, bleeder_count} over @days. */
static json_t *dashboard_json(struct revenue *r, const struct acct_live *v,
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
		fail_live(q->cmd, err);
		free(q);
		return;
	}
	if (!acct_chan_pnls(r, v, NULL, &arr, &n, &e)) {
		fail_db(q->cmd, e);
		goto out;
	}
	res = dashboard_json(r, v, arr, n, q->days, &e);
	acct_chan_pnls_free(arr, n);
	if (!res)
		fail_db(q->cmd, e);
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
	    !window_param(cmd, have, days) || !ready(cmd))
		return;
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	q->days = (uint32_t)days;
	acct_live_fetch(R(cmd), command_id(cmd), ACCT_LIVE_FUNDS, dash_live, q);
}

/* ---- the datastore's dashboard and profitability summary ---- */

static void publish_live(struct revenue *r, struct acct_live *v,
			 const char *err, void *arg)
{
	struct publish_run *pr = arg;
	struct acct_chan_pnl *arr = NULL;
	struct pnl_params params;
	size_t n = 0;
	char *e = NULL;
	json_t *dash, *chans;

	if (!v) {
		plugin_log(r->plugin, PLOG_DEBUG,
			   "datastore: reports not published: %s", err);
		publish_release(pr);
		return;
	}
	if (!r->db || !acct_chan_pnls(r, v, NULL, &arr, &n, &e)) {
		plugin_log(r->plugin, PLOG_WARN,
			   "datastore: reports not published: %s",
			   e ? e : "database closed");
		free(e);
		acct_live_free(v);
		publish_release(pr);
		return;
	}
	dash = dashboard_json(r, v, arr, n, 30, &e);
	if (dash) {
		publish_push(r, pr, "dashboard", dash);
	} else {
		plugin_log(r->plugin, PLOG_WARN,
			   "datastore: dashboard not published: %s", e);
		free(e);
	}
	acct_pnl_params(&params);
	chans = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *c = class_entry_json(&arr[i]);
		bool to_floor;
		set(c, "profitability_class",
		    json_string(pnl_class_name(arr[i].res.cls)));
		set(c, "fee_multiplier",
		    num2(pnl_fee_adjustment(&params, arr[i].res.cls,
					    arr[i].res.roi, &to_floor)));
		set(c, "total_costs_sats",
		    sat_ceil(arr[i].res.total_cost_msat));
		json_array_append_new(chans, c);
	}
	publish_push(r, pr, "profitability-summary",
		     json_pack("{s:I,s:o}", "timestamp", (json_int_t)v->now,
			       "channels", chans));
	acct_chan_pnls_free(arr, n);
	acct_live_free(v);
	publish_release(pr);
}

void reports_publish(struct revenue *r, struct publish_run *pr)
{
	if (!r->db || !r->acct)
		return;
	publish_hold(pr);
	acct_live_fetch(r, NULL, ACCT_LIVE_FUNDS, publish_live, pr);
}

/* ---- lifetime (revenue-history and the summary report) ---- */

struct lifetime {
	struct acct_flow rev;
	int64_t open_msat, closure_msat, splice_msat, rebalance_msat;
	struct pnl_lifetime_result res;
};

static bool lifetime_compute(struct revenue *r, const struct acct_live *v,
			     struct lifetime *lt, char **err)
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
	struct lifetime lt;
	int64_t cap = 0, opens = 0, closes = 0, rev = 0, rebal = 0, net = 0;
	uint64_t fwds = 0, days = 0;
	json_t *res, *cs, *list, *sl;
	char *e = NULL;

	if (!v) {
		fail_live(cmd, err);
		return;
	}
	if (!lifetime_compute(r, v, &lt, &e) ||
	    !acct_db_closed_all(r->db, &closed, &nclosed, &e) ||
	    !acct_db_snapshot_list(r->db, 30, &snaps, &nsnaps, &e)) {
		fail_db(cmd, e);
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
		json_array_append_new(list, closed_json(c));
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

	if (!command_params(cmd, params, none) || !ready(cmd))
		return;
	acct_live_fetch(R(cmd), command_id(cmd), 0, history_live, cmd);
}

/* ---- revenue-report ---- */

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
			fail_db(q->cmd, e);
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
	struct lifetime lt;
	json_t *res, *dash, *chans, *by_state, *life;
	const char *key;
	json_t *val;
	char *e = NULL;

	if (!acct_chan_pnls(r, v, NULL, &arr, &n, &e) ||
	    !lifetime_compute(r, v, &lt, &e)) {
		acct_chan_pnls_free(arr, n);
		fail_db(q->cmd, e);
		return;
	}
	dash = dashboard_json(r, v, arr, n, q->days, &e);
	if (!dash) {
		acct_chan_pnls_free(arr, n);
		fail_db(q->cmd, e);
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
	set(res, "profitability", summary_json(arr, n, NULL));
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
		fail_db(q->cmd, e);
		return;
	}
	cl = json_array();
	for (size_t i = 0; i < nclosed; i++)
		if (!strcasecmp(closed[i].peer_id, q->peer))
			json_array_append_new(cl, closed_json(&closed[i]));
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
			      profitability_json(&arr[i])));
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
		fail_live(q->cmd, err);
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
	    !window_param(cmd, have_days, days))
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
	if (!ready(cmd))
		return;
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	snprintf(q->type, sizeof(q->type), "%s", type);
	if (peer)
		snprintf(q->peer, sizeof(q->peer), "%s", peer);
	q->days = (uint32_t)days;
	acct_live_fetch(R(cmd), command_id(cmd), ACCT_LIVE_FUNDS, report_live,
			q);
}

/* ---- revenue-capacity-report ----
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
		fail_live(cmd, err);
		return;
	}
	if (!acct_chan_pnls(r, v, NULL, &arr, &n, &e)) {
		fail_db(cmd, e);
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

	if (!command_params(cmd, params, none) || !ready(cmd))
		return;
	acct_live_fetch(R(cmd), command_id(cmd), 0, capacity_live, cmd);
}

/* ---- revenue-cleanup-closed ---- */

struct cleanup_req {
	struct command *cmd;
	struct acct_live *v;
	size_t tracked;
	size_t jobs;
	json_t *channels, *errors;
	size_t archived;
};

static void cleanup_finish(struct cleanup_req *q)
{
	struct revenue *r = R(q->cmd);
	struct acct_closed_row *closed = NULL;
	size_t nclosed = 0, cleaned = 0;
	uint64_t now = q->v->now;
	char *e = NULL;
	const char *msg;
	char *text = NULL;

	if (!acct_db_closed_all(r->db, &closed, &nclosed, &e)) {
		json_array_append_new(q->errors, json_string(e));
		free(e);
		e = NULL;
	}
	for (size_t i = 0; i < nclosed; i++) {
		struct acct_scids s;
		json_t *rows = json_object();
		uint64_t total = 0;
		bool any = false, ok = true;

		if (!acct_db_scids(r->db, closed[i].channel_id, closed[i].scid,
				   &s, &e)) {
			json_array_append_new(q->errors, json_string(e));
			free(e);
			e = NULL;
			json_decref(rows);
			continue;
		}
		for (size_t k = 0; k < s.n && ok; k++) {
			bool has;
			ok = acct_db_has_operational(r->db, s.v[k], &has, &e);
			any |= ok && has;
		}
		if (ok && any) {
			/* One channel, one transaction. */
			ok = store_begin(r->db, &e);
			for (size_t k = 0; k < s.n && ok; k++) {
				uint64_t n;
				ok = acct_db_remove_operational(r->db, s.v[k],
								&n, &e);
				if (ok && n)
					set(rows, s.v[k],
					    json_integer((json_int_t)n));
				total += ok ? n : 0;
			}
			ok = ok && acct_db_closed_mark_cleaned(
				       r->db, closed[i].channel_id, now, &e);
			if (ok)
				ok = store_commit(r->db, &e);
			else if (store_in_transaction(r->db))
				store_rollback(r->db);
		}
		free(s.v);
		if (!ok) {
			json_array_append_new(
			    q->errors,
			    json_sprintf("%s: %s", closed[i].scid, e));
			free(e);
			e = NULL;
			json_decref(rows);
			continue;
		}
		if (!any) {
			json_decref(rows);
			continue;
		}
		cleaned++;
		json_array_append_new(
		    q->channels,
		    json_pack("{s:s,s:s,s:s,s:s,s:I,s:o}", "channel_id",
			      closed[i].scid, "peer_id", closed[i].peer_id,
			      "action", "cleaned", "close_type",
			      closed[i].close_type, "rows_removed",
			      (json_int_t)total, "rows_by_scid", rows));
	}
	free(closed);
	if (q->tracked == 0 && nclosed == 0)
		msg = "No tracked channels found";
	else if (q->archived == 0 && cleaned == 0)
		msg = "No closed channels found to clean up";
	else
		msg = text = xfmt("Archived %zu and cleaned %zu closed "
				  "channel(s)",
				  q->archived, cleaned);
	command_ok(q->cmd, json_pack("{s:s,s:I,s:I,s:o,s:o}", "message", msg,
				     "archived", (json_int_t)q->archived,
				     "cleaned", (json_int_t)cleaned, "channels",
				     q->channels, "errors", q->errors));
	free(text);
	acct_live_free(q->v);
	free(q);
}

static void cleanup_job_done(struct revenue *r, const char *channel_id,
			     const char *err, void *arg)
{
	struct cleanup_req *q = arg;

	if (channel_id) {
		struct acct_closed_row row;
		char *e = NULL;
		if (err)
			json_array_append_new(
			    q->errors, json_sprintf("%s: %s", channel_id, err));
		else if (acct_db_closed_find(r->db, channel_id, NULL, &row,
					     &e) &&
			 row.found) {
			q->archived++;
			json_array_append_new(
			    q->channels,
			    json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "channel_id",
				      row.scid, "peer_id", row.peer_id,
				      "action", "archived", "close_type",
				      row.close_type, "net_pnl_sats",
				      sat_trunc(row.net_pnl_msat),
				      "total_revenue_sats",
				      sat_ceil(row.revenue_msat)));
		}
		free(e);
	}
	if (--q->jobs == 0)
		cleanup_finish(q);
}

static void cleanup_live(struct revenue *r, struct acct_live *v,
			 const char *err, void *arg)
{
	struct command *cmd = arg;
	struct cleanup_req *q;
	struct acct_chan *missed = NULL;
	size_t nmissed = 0, tracked = 0;
	char *e = NULL;

	if (!v) {
		fail_live(cmd, err);
		return;
	}
	if (!acct_unarchived_closures(r, v, &missed, &nmissed, &tracked, &e)) {
		fail_db(cmd, e);
		acct_live_free(v);
		return;
	}
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	q->v = v;
	q->tracked = tracked;
	q->channels = json_array();
	q->errors = json_array();
	q->jobs = 1 + nmissed;
	for (size_t i = 0; i < nmissed; i++)
		acct_queue_archive(r, &missed[i], cleanup_job_done, q);
	free(missed);
	cleanup_job_done(r, NULL, NULL, q);
}

void json_revenue_cleanup_closed(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};

	if (!command_params(cmd, params, none) || !ready(cmd))
		return;
	acct_live_fetch(R(cmd), command_id(cmd), ACCT_LIVE_CLOSED, cleanup_live,
			cmd);
}
