/* The operator's fee anchors: checks, storage and revenue-fee-anchor; see
 * anchor.h. */
#include "plugins/revenue-ops/store/anchor.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/cycle/fee.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/store/policy.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the pure part ---- */

static const struct {
	const char *name;
	enum fee_anchor_action action;
} action_names[] = {
    {"set", FEE_ANCHOR_SET},	 {"list", FEE_ANCHOR_LIST},
    {"get", FEE_ANCHOR_GET},	 {"clear", FEE_ANCHOR_CLEAR},
    {"clear-all", FEE_ANCHOR_CLEAR_ALL},
};

bool fee_anchor_action_parse(const char *s, enum fee_anchor_action *out)
{
	char buf[16];
	size_t n = 0;

	if (!s)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	for (; *s && n < sizeof(buf) - 1; s++)
		buf[n++] = (char)tolower((unsigned char)*s);
	if (*s)
		return false; /* longer than any action */
	while (n && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(action_names); i++)
		if (!strcmp(buf, action_names[i].name)) {
			*out = action_names[i].action;
			return true;
		}
	return false;
}

char *fee_anchor_check(int64_t target_fee_ppm, double confidence,
		       double base_weight, double ttl_hours, const char *reason,
		       uint64_t *ttl_sec, const char **field)
{
	double secs;

	if (target_fee_ppm < 0 || target_fee_ppm > FEE_ANCHOR_MAX_FEE_PPM) {
		*field = "target_fee_ppm";
		return xfmt("target_fee_ppm must be 0..%d, not %lld",
			    FEE_ANCHOR_MAX_FEE_PPM, (long long)target_fee_ppm);
	}
	if (!(confidence >= 0 && confidence <= 1)) {
		*field = "confidence";
		return xfmt("confidence must be 0..1, not %g", confidence);
	}
	if (!(base_weight >= 0 && base_weight <= 1)) {
		*field = "base_weight";
		return xfmt("base_weight must be 0..1, not %g", base_weight);
	}
	/* Fractional hours are fine; what counts is the seconds. */
	secs = ttl_hours * 3600.0;
	if (!(secs >= 1 && secs <= FEE_ANCHOR_MAX_TTL_SEC)) {
		*field = "ttl_hours";
		return xfmt("ttl_hours must give 1 second .. 7 days (%d s, "
			    "168 hours), not %g hours",
			    FEE_ANCHOR_MAX_TTL_SEC, ttl_hours);
	}
	if (reason && strlen(reason) > FEE_ANCHOR_MAX_REASON) {
		*field = "reason";
		return xfmt("reason must be at most %d bytes, not %zu",
			    FEE_ANCHOR_MAX_REASON, strlen(reason));
	}
	*ttl_sec = (uint64_t)(secs + 0.5);
	if (*ttl_sec > FEE_ANCHOR_MAX_TTL_SEC)
		*ttl_sec = FEE_ANCHOR_MAX_TTL_SEC;
	*field = NULL;
	return NULL;
}

double fee_anchor_weight(const struct fee_anchor *a)
{
	return a->base_weight * a->confidence;
}

bool fee_anchor_active(const struct fee_anchor *a, uint64_t now)
{
	return a->expires_at > now;
}

json_t *fee_anchor_json(const struct fee_anchor *a, uint64_t now)
{
	return json_pack(
	    "{s:s,s:s?,s:I,s:f,s:f,s:f,s:I,s:I,s:s,s:I}", "channel_id", a->scid,
	    "peer_id", a->peer_id[0] ? a->peer_id : NULL, "target_fee_ppm",
	    (json_int_t)a->target_fee_ppm, "confidence", a->confidence,
	    "base_weight", a->base_weight, "effective_weight",
	    fee_anchor_weight(a), "created_at", (json_int_t)a->created_at,
	    "expires_at", (json_int_t)a->expires_at, "reason", a->reason,
	    "ttl_seconds_remaining",
	    (json_int_t)(a->expires_at > now ? a->expires_at - now : 0));
}

void fee_anchor_to_obs(const struct fee_anchor *a, struct fee_ctl_obs *o)
{
	if (!a) {
		o->anchor_target_ppm = -1;
		return;
	}
	o->anchor_target_ppm = a->target_fee_ppm;
	o->anchor_confidence = a->confidence;
	o->anchor_base_weight = a->base_weight;
	o->anchor_expires_sec = a->expires_at;
}

/* ---- storage ---- */

static void col_text(sqlite3_stmt *st, int col, char *out, size_t n)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(out, n, "%s", s ? (const char *)s : "");
}

static void row_to_anchor(sqlite3_stmt *st, struct fee_anchor *a)
{
	memset(a, 0, sizeof(*a));
	col_text(st, 0, a->scid, sizeof(a->scid));
	col_text(st, 1, a->channel_id, sizeof(a->channel_id));
	col_text(st, 2, a->peer_id, sizeof(a->peer_id));
	a->target_fee_ppm = sqlite3_column_int64(st, 3);
	a->confidence = sqlite3_column_double(st, 4);
	a->base_weight = sqlite3_column_double(st, 5);
	col_text(st, 6, a->reason, sizeof(a->reason));
	a->created_at = (uint64_t)sqlite3_column_int64(st, 7);
	a->expires_at = (uint64_t)sqlite3_column_int64(st, 8);
}

#define ANCHOR_COLUMNS                                                         \
	"channel_id, full_channel_id, peer_id, target_fee_ppm, confidence, "   \
	"base_weight, reason, created_at, expires_at"

bool fee_anchor_get(struct store *db, const char *scid,
		    const char *channel_id, uint64_t now,
		    struct fee_anchor *out, bool *found, char **err)
{
	/* The scid's own row first; the channel id only finds a row left
	 * under the scid the channel had before a splice. */
	sqlite3_stmt *st = store_stmt(
	    db,
	    "SELECT " ANCHOR_COLUMNS " FROM fee_anchors WHERE expires_at > ?3 "
	    "AND (channel_id = ?1 OR (?2 != '' AND full_channel_id = ?2)) "
	    "ORDER BY channel_id = ?1 DESC LIMIT 1",
	    err);
	int rc;

	*found = false;
	memset(out, 0, sizeof(*out));
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid ? scid : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, channel_id ? channel_id : "", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_anchor(st, out);
		*found = true;
	} else if (rc != SQLITE_DONE) {
		/* Busy or corrupt is not "no anchor". */
		*err = xfmt("fee_anchors: %s", store_errmsg(db));
		store_done(st);
		return false;
	}
	store_done(st);
	return true;
}

bool fee_anchor_list(struct store *db, uint64_t now, struct fee_anchor **out,
		     size_t *n, char **err)
{
	sqlite3_stmt *st = store_stmt(db,
				      "SELECT " ANCHOR_COLUMNS
				      " FROM fee_anchors WHERE expires_at > "
				      "?1 ORDER BY channel_id",
				      err);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		xgrow(out, &cap, *n + 1, sizeof(**out));
		row_to_anchor(st, &(*out)[(*n)++]);
	}
	if (rc != SQLITE_DONE) {
		*err = xfmt("fee_anchors: %s", store_errmsg(db));
		store_done(st);
		free(*out);
		*out = NULL;
		*n = 0;
		return false;
	}
	store_done(st);
	return true;
}

/* One write of fee_anchors; *changes (if asked) the rows it touched. */
static bool step_done(struct store *db, sqlite3_stmt *st, uint64_t *changes,
		      char **err)
{
	if (!store_step_done(db, st, "fee_anchors", err))
		return false;
	if (changes)
		*changes = (uint64_t)sqlite3_changes(store_db(db));
	return true;
}

bool fee_anchor_put(struct store *db, const struct fee_anchor *a, char **err)
{
	sqlite3_stmt *st;

	if (a->channel_id[0]) {
		st = store_stmt(db,
				"DELETE FROM fee_anchors WHERE full_channel_id "
				"= ?1 AND channel_id != ?2",
				err);
		if (!st)
			return false;
		sqlite3_bind_text(st, 1, a->channel_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, a->scid, -1, SQLITE_TRANSIENT);
		if (!step_done(db, st, NULL, err))
			return false;
	}
	st = store_stmt(db,
			"INSERT OR REPLACE INTO fee_anchors (" ANCHOR_COLUMNS
			") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, a->scid, -1, SQLITE_TRANSIENT);
	if (a->channel_id[0])
		sqlite3_bind_text(st, 2, a->channel_id, -1, SQLITE_TRANSIENT);
	if (a->peer_id[0])
		sqlite3_bind_text(st, 3, a->peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, a->target_fee_ppm);
	sqlite3_bind_double(st, 5, a->confidence);
	sqlite3_bind_double(st, 6, a->base_weight);
	sqlite3_bind_text(st, 7, a->reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)a->created_at);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)a->expires_at);
	return step_done(db, st, NULL, err);
}

bool fee_anchor_delete(struct store *db, const char *scid,
		       const char *channel_id, uint64_t *deleted, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "DELETE FROM fee_anchors WHERE channel_id = ?1 OR (?2 != '' AND "
	    "full_channel_id = ?2)",
	    err);

	*deleted = 0;
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid ? scid : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, channel_id ? channel_id : "", -1,
			  SQLITE_TRANSIENT);
	return step_done(db, st, deleted, err);
}

bool fee_anchor_delete_all(struct store *db, uint64_t now, uint64_t *active,
			   char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db, "SELECT COUNT(*) FROM fee_anchors WHERE expires_at > ?1", err);

	*active = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	if (sqlite3_step(st) == SQLITE_ROW)
		*active = (uint64_t)sqlite3_column_int64(st, 0);
	store_done(st);
	st = store_stmt(db, "DELETE FROM fee_anchors", err);
	if (!st)
		return false;
	return step_done(db, st, NULL, err);
}

bool fee_anchor_purge(struct store *db, uint64_t now, uint64_t *purged,
		      char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db, "DELETE FROM fee_anchors WHERE expires_at <= ?1", err);

	*purged = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	return step_done(db, st, purged, err);
}

/* ---- revenue-fee-anchor ---- */

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
	pipeline_fee_params(&r->cfg, &p);
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
