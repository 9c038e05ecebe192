/* Datastore publishing; see publish.h. */
#include "plugins/revenue-ops/cycle/publish.h"
#include "common/clock.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/config.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/cycle/acct_report.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include <string.h>

char *publish_text(json_t *payload, uint64_t now, const char **why)
{
	char *text;

	if (!json_is_object(payload)) {
		*why = "not a JSON object";
		return NULL;
	}
	if (json_object_get(payload, "error")) {
		*why = "it carries an error";
		return NULL;
	}
	if (!json_object_get(payload, "timestamp"))
		json_object_set_new(payload, "timestamp",
				    json_integer((json_int_t)now));
	text = json_dumps(payload, JSON_COMPACT);
	if (!text) {
		*why = "out of memory";
		return NULL;
	}
	if (strlen(text) > PUBLISH_MAX_BYTES) {
		free(text);
		*why = "over 60,000 bytes";
		return NULL;
	}
	return text;
}

struct publish_run {
	struct revenue *r;
	unsigned pending;
	void (*done)(struct revenue *r, void *arg);
	void *arg;
};

void publish_hold(struct publish_run *pr)
{
	pr->pending++;
}

void publish_release(struct publish_run *pr)
{
	if (--pr->pending)
		return;
	pr->done(pr->r, pr->arg);
	free(pr);
}

struct push {
	struct publish_run *pr;
	char *name;
};

static void warn_once(struct revenue *r, const char *name, const char *why)
{
	if (!r->pipe || r->pipe->publish_warned)
		return;
	r->pipe->publish_warned = true;
	plugin_log(r->plugin, PLOG_WARN,
		   "datastore: revenue/%s not published: %s (further "
		   "failures logged at debug until one succeeds)",
		   name, why);
}

static void pushed(struct rpc *rpc, const struct rpc_reply *reply, void *arg)
{
	struct push *p = arg;
	struct revenue *r = p->pr->r;

	(void)rpc;
	if (reply->error) {
		char *e = rpc_reply_errtext(reply);
		if (r->pipe && r->pipe->publish_warned)
			plugin_log(r->plugin, PLOG_DEBUG,
				   "datastore: revenue/%s: %s", p->name, e);
		warn_once(r, p->name, e);
		free(e);
	} else if (r->pipe) {
		r->pipe->publish_warned = false;
	}
	publish_release(p->pr);
	free(p->name);
	free(p);
}

void publish_push(struct revenue *r, struct publish_run *pr, const char *name,
		  json_t *payload)
{
	uint64_t now = clock_wall_sec(plugin_clock(r->plugin));
	const char *why = NULL;
	char *text = publish_text(payload, now, &why);
	struct push *p;

	json_decref(payload);
	if (!text) {
		warn_once(r, name, why);
		return;
	}
	p = xmalloc(sizeof(*p));
	p->pr = pr;
	p->name = xstrdup(name);
	publish_hold(pr);
	rpc_call(plugin_rpc(r->plugin), NULL, "datastore",
		 json_pack("{s:[s,s],s:s,s:s}", "key", "revenue", name,
			   "string", text, "mode", "create-or-replace"),
		 pushed, p);
	free(text);
}

/* ---- the dashboard and the profitability summary ---- */

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

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
	dash = report_dashboard_json(r, v, arr, n, 30, &e);
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
		json_t *c = report_class_entry_json(&arr[i]);
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

static void publish_reports(struct revenue *r, struct publish_run *pr)
{
	if (!r->db || !r->acct)
		return;
	publish_hold(pr);
	acct_live_fetch(r, NULL, ACCT_LIVE_FUNDS, publish_live, pr);
}

/* ---- after a fee cycle ---- */

void publish_after_fee_cycle(struct revenue *r, uint64_t now,
			     void (*done)(struct revenue *r, void *arg),
			     void *arg)
{
	const struct ro_config *c = &r->cfg;
	int64_t lo = cfg_i(c, CFG_MIN_FEE_PPM), hi = cfg_i(c, CFG_MAX_FEE_PPM);
	struct publish_run *pr = xzalloc(sizeof(*pr));

	pr->r = r;
	pr->done = done;
	pr->arg = arg;
	/* Held until everything is started, so done runs once, last. */
	publish_hold(pr);
	publish_push(
	    r, pr, "status",
	    json_pack("{s:{s:b,s:b,s:b},s:o}", "operator_controls", "paused",
		      cfg_b(c, CFG_PAUSED), "dry_run", cfg_b(c, CFG_DRY_RUN),
		      "fee_authority_enabled",
		      cfg_b(c, CFG_FEE_AUTHORITY_ENABLED), "fee_decision",
		      fee_cycle_summary_json(&r->pipe->summary)));
	publish_push(r, pr, "fee-bounds",
		     json_pack("{s:I,s:I,s:I}", "min", (json_int_t)lo, "max",
			       (json_int_t)hi, "mid",
			       (json_int_t)((lo + hi) / 2)));
	if (!r->pipe->reports_published_at ||
	    now >= r->pipe->reports_published_at + PUBLISH_REPORTS_SEC) {
		r->pipe->reports_published_at = now;
		publish_reports(r, pr);
	}
	publish_release(pr);
}
