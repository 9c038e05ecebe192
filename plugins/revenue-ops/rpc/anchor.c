/* revenue-fee-anchor: set, get, list, clear and clear-all the operator's
 * fee anchors (store/anchor.h). A set names what keeps the anchor from
 * acting now (a policy that decides the fee, an external fee held, an
 * inactive channel). */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/anchor.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/policy.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct anchor_req {
	struct command *cmd;
	enum fee_anchor_action action;
	char ref[72];	   /* as given, ':' normalised to 'x' */
	bool ref_is_scid;  /* else a 64-hex channel id (lower case) */
	struct fee_anchor a; /* set: the values to store */
	uint64_t ttl_sec;
};

static uint64_t now_sec(struct revenue *r)
{
	return clock_wall_sec(plugin_clock(r->plugin));
}

static void fail_db(struct command *cmd, char *err)
{
	command_fail(cmd, ERR_DATABASE, NULL, "%s (nothing was changed)", err);
	free(err);
}

static void fail_param(struct command *cmd, const char *field, const char *msg)
{
	command_fail(cmd, ERR_INVALID_PARAMS,
		     json_pack("{s:s}", "field", field), "%s", msg);
}

/* The channel @q names among the node's channels, or NULL. */
static const struct chan_info *find_chan(const struct node_view *v,
					 const struct anchor_req *q)
{
	for (size_t i = 0; i < v->nchans; i++)
		if (q->ref_is_scid ? !strcmp(v->chans[i].scid, q->ref)
				   : !strcasecmp(v->chans[i].channel_id,
						 q->ref))
			return &v->chans[i];
	return NULL;
}

static void fail_unknown(struct command *cmd, const struct anchor_req *q,
			 bool node_channel)
{
	if (node_channel)
		command_fail(cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "channel_id", q->ref),
			     "No active fee anchor on channel %s", q->ref);
	else
		command_fail(cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "channel_id", q->ref),
			     "Unknown channel %s: not one of this node's "
			     "channels%s",
			     q->ref,
			     q->action == FEE_ANCHOR_SET
				 ? ""
				 : ", and no fee anchor names it");
}

/* Why an anchor just set will not move the fee yet, or NULL. */
static char *set_warning(struct revenue *r, const struct chan_info *ci,
			 uint64_t now)
{
	struct policy pol;
	struct fee_ctl_params p;
	struct fee_ctl_state *st;
	char *err = NULL, *w = NULL;
	bool found;

	if (policy_get(r, ci->peer_id, now, &pol, NULL, &err) &&
	    pol.exists && pol.strategy != FEE_CTL_DYNAMIC)
		w = xfmt("the peer's %s policy decides this channel's fee: "
			 "the anchor has no effect while it lasts",
			 fee_ctl_strategy_name(pol.strategy));
	policy_clear(&pol);
	free(err);
	err = NULL;
	if (w)
		return w;
	params_fee_ctl(&r->cfg, &p);
	st = xmalloc(sizeof(*st));
	if (fee_state_load(r, ci->scid, ci->channel_id, st, &found, &err) &&
	    found && st->version && st->external_adopted_sec &&
	    now < st->external_adopted_sec + p.external_hold_sec)
		w = xfmt("the fee set outside the controller is held until "
			 "%llu: the anchor applies after that",
			 (unsigned long long)(st->external_adopted_sec +
					      p.external_hold_sec));
	free(st);
	free(err);
	if (!w && !ci->active)
		w = xfmt("channel is %s: the anchor applies once it is "
			 "active",
			 ci->state);
	return w;
}

static void do_set(struct revenue *r, struct anchor_req *q,
		   const struct chan_info *ci, uint64_t now)
{
	struct fee_anchor *a = &q->a;
	char *err = NULL, *warn;
	uint64_t purged;
	json_t *res;

	if (!ci) {
		fail_unknown(q->cmd, q, false);
		return;
	}
	snprintf(a->scid, sizeof(a->scid), "%s", ci->scid);
	snprintf(a->channel_id, sizeof(a->channel_id), "%s", ci->channel_id);
	snprintf(a->peer_id, sizeof(a->peer_id), "%s", ci->peer_id);
	a->created_at = now;
	a->expires_at = now + q->ttl_sec;
	if (!store_begin(r->db, &err))
		goto fail;
	if (!fee_anchor_purge(r->db, now, &purged, &err) ||
	    !fee_anchor_put(r->db, a, &err) || !store_commit(r->db, &err)) {
		store_rollback(r->db);
		goto fail;
	}
	plugin_log(r->plugin, PLOG_INFO,
		   "revenue-fee-anchor: %s anchored at %lld ppm (weight %g) "
		   "until %llu%s%s",
		   a->scid, (long long)a->target_fee_ppm, fee_anchor_weight(a),
		   (unsigned long long)a->expires_at, a->reason[0] ? ": " : "",
		   a->reason);
	res = fee_anchor_json(a, now);
	warn = set_warning(r, ci, now);
	if (warn) {
		json_object_set_new(res, "warning", json_string(warn));
		free(warn);
	}
	command_ok(q->cmd, res);
	return;
fail:
	fail_db(q->cmd, err);
}

/* get and clear: the channel's anchor, found through the node's channel
 * when it still exists, else through the reference itself (a channel
 * closed and forgotten by lightningd can still have its anchor read or
 * removed). */
static void do_get_clear(struct revenue *r, struct anchor_req *q,
			 const struct chan_info *ci, uint64_t now)
{
	const char *scid = ci ? ci->scid : q->ref_is_scid ? q->ref : NULL;
	const char *cid = ci ? ci->channel_id : q->ref_is_scid ? NULL : q->ref;
	struct fee_anchor a;
	char *err = NULL;
	uint64_t n, purged;
	bool found;

	if (q->action == FEE_ANCHOR_GET) {
		if (!fee_anchor_get(r->db, scid, cid, now, &a, &found, &err)) {
			fail_db(q->cmd, err);
			return;
		}
		if (!found) {
			fail_unknown(q->cmd, q, ci != NULL);
			return;
		}
		/* Under its current scid even if the row is not re-keyed
		 * yet after a splice. */
		if (ci)
			snprintf(a.scid, sizeof(a.scid), "%s", ci->scid);
		command_ok(q->cmd, fee_anchor_json(&a, now));
		return;
	}
	if (!store_begin(r->db, &err)) {
		fail_db(q->cmd, err);
		return;
	}
	if (!fee_anchor_get(r->db, scid, cid, now, &a, &found, &err))
		goto rollback;
	if (!found) {
		/* Nothing to clear: leave even the expired rows for the
		 * next write, so a refused call changes nothing. */
		store_rollback(r->db);
		fail_unknown(q->cmd, q, ci != NULL);
		return;
	}
	if (!fee_anchor_purge(r->db, now, &purged, &err) ||
	    !fee_anchor_delete(r->db, a.scid,
			       a.channel_id[0] ? a.channel_id : NULL, &n,
			       &err) ||
	    !store_commit(r->db, &err))
		goto rollback;
	if (ci)
		snprintf(a.scid, sizeof(a.scid), "%s", ci->scid);
	plugin_log(r->plugin, PLOG_INFO,
		   "revenue-fee-anchor: anchor of %s (%lld ppm) cleared",
		   a.scid, (long long)a.target_fee_ppm);
	command_ok(q->cmd, json_pack("{s:s,s:I,s:s,s:o}", "status", "success",
				     "cleared", (json_int_t)1, "channel_id",
				     a.scid, "anchor",
				     fee_anchor_json(&a, now)));
	return;
rollback:
	store_rollback(r->db);
	fail_db(q->cmd, err);
}

static void anchor_gathered(struct revenue *r, struct node_view *v,
			    const char *gerr, void *arg)
{
	struct anchor_req *q = arg;
	uint64_t now = now_sec(r);

	if (gerr) {
		command_fail(q->cmd, ERR_RPC_FAILED, NULL, "%s", gerr);
	} else if (!r->db) {
		command_fail(q->cmd, ERR_NOT_READY, NULL,
			     "cl-revenue-ops is not initialised");
	} else if (q->action == FEE_ANCHOR_SET) {
		do_set(r, q, find_chan(v, q), now);
	} else {
		do_get_clear(r, q, find_chan(v, q), now);
	}
	node_view_free(v);
	free(q);
}

static void do_list(struct revenue *r, struct command *cmd, uint64_t now)
{
	struct fee_anchor *arr;
	size_t n;
	char *err = NULL;
	json_t *anchors;

	if (!fee_anchor_list(r->db, now, &arr, &n, &err)) {
		command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
		free(err);
		return;
	}
	anchors = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(anchors, fee_anchor_json(&arr[i], now));
	free(arr);
	command_ok(cmd, json_pack("{s:o,s:I}", "anchors", anchors, "count",
				  (json_int_t)n));
}

static void do_clear_all(struct revenue *r, struct command *cmd, uint64_t now)
{
	char *err = NULL;
	uint64_t n;

	if (!store_begin(r->db, &err)) {
		fail_db(cmd, err);
		return;
	}
	if (!fee_anchor_delete_all(r->db, now, &n, &err) ||
	    !store_commit(r->db, &err)) {
		store_rollback(r->db);
		fail_db(cmd, err);
		return;
	}
	plugin_log(r->plugin, PLOG_INFO,
		   "revenue-fee-anchor: %llu anchor(s) cleared",
		   (unsigned long long)n);
	command_ok(cmd, json_pack("{s:s,s:I}", "status", "success", "cleared",
				  (json_int_t)n));
}

/* An scid ("AxBxC", or "A:B:C") or a 64-hex channel id, into @q. */
static bool parse_ref(const char *ref, struct anchor_req *q)
{
	size_t n = strlen(ref);

	if (n >= sizeof(q->ref))
		return false;
	for (size_t i = 0; i <= n; i++)
		q->ref[i] = ref[i] == ':' ? 'x' : ref[i];
	if (scid_valid(q->ref)) {
		q->ref_is_scid = true;
		return true;
	}
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)q->ref[i]))
			return false;
		q->ref[i] = (char)tolower((unsigned char)q->ref[i]);
	}
	q->ref_is_scid = false;
	return true;
}

void json_revenue_fee_anchor(struct command *cmd, const json_t *params)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	const char *action = NULL, *ref = NULL, *reason = "";
	int64_t target = 0;
	double confidence = 1.0, base_weight = 0.7, ttl_hours = 24;
	bool has_target = false;
	const struct param spec[] = {
	    {"action", PARAM_STRING, true, &action},
	    {"channel_id", PARAM_STRING, false, &ref},
	    {"target_fee_ppm", PARAM_INT, false, &target, &has_target},
	    {"confidence", PARAM_DOUBLE, false, &confidence},
	    {"base_weight", PARAM_DOUBLE, false, &base_weight},
	    {"ttl_hours", PARAM_DOUBLE, false, &ttl_hours},
	    {"reason", PARAM_STRING, false, &reason},
	    {NULL},
	};
	enum fee_anchor_action act;
	struct anchor_req *q;
	const char *field;
	char *msg;
	uint64_t ttl_sec = 0;

	if (!command_params(cmd, params, spec))
		return;
	if (!fee_anchor_action_parse(action, &act)) {
		msg = xfmt("action: '%s' is not one of set, list, get, clear, "
			   "clear-all",
			   action);
		fail_param(cmd, "action", msg);
		free(msg);
		return;
	}
	if (!r->db) {
		command_fail(cmd, ERR_NOT_READY, NULL,
			     "cl-revenue-ops is not initialised");
		return;
	}
	if (act == FEE_ANCHOR_LIST) {
		do_list(r, cmd, now_sec(r));
		return;
	}
	if (act == FEE_ANCHOR_CLEAR_ALL) {
		do_clear_all(r, cmd, now_sec(r));
		return;
	}
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	q->action = act;
	if (!ref || !*ref) {
		msg = xfmt("channel_id: required for %s",
			   act == FEE_ANCHOR_SET   ? "set"
			   : act == FEE_ANCHOR_GET ? "get"
						   : "clear");
		fail_param(cmd, "channel_id", msg);
		goto out;
	}
	if (!parse_ref(ref, q)) {
		msg = xfmt("channel_id: '%.80s' is neither a short_channel_id "
			   "nor a 64-hex channel id",
			   ref);
		fail_param(cmd, "channel_id", msg);
		goto out;
	}
	if (act == FEE_ANCHOR_SET) {
		if (!has_target) {
			fail_param(cmd, "target_fee_ppm",
				   "target_fee_ppm: required for set "
				   "(0..100000)");
			free(q);
			return;
		}
		msg = fee_anchor_check(target, confidence, base_weight,
				       ttl_hours, reason, &ttl_sec, &field);
		if (msg) {
			fail_param(cmd, field, msg);
			goto out;
		}
		q->a.target_fee_ppm = target;
		q->a.confidence = confidence;
		q->a.base_weight = base_weight;
		snprintf(q->a.reason, sizeof(q->a.reason), "%s", reason);
		q->ttl_sec = ttl_sec;
	}
	/* The channel must be one of ours (set), or is resolved to its scid
	 * and channel id (get, clear). */
	gather_node(r, command_id(cmd), anchor_gathered, q);
	return;
out:
	free(msg);
	free(q);
}
