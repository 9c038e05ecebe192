/* revenue-policy and the trios built on it: revenue-ignore,
 * revenue-unignore, revenue-list-ignored, and revenue-ban, revenue-unban,
 * revenue-list-banned.
 *
 * Writes are accepted from any caller (cl-hive sets strategy=hive without
 * the reference's internal/admin flag: defect 40; the flags are accepted
 * and ignored). Each write names a known peer (one we have a channel with,
 * or one that already has a policy), is rate limited per peer (10 a
 * minute, error 1105) and is one transaction; a batch is validated whole
 * before anything is written (all or nothing). */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/policy.h"
#include <math.h>
#include <string.h>
#include <strings.h>

static uint64_t now_sec(struct revenue *r)
{
	return clock_wall_sec(plugin_clock(r->plugin));
}

static void fail_policy(struct command *cmd, const struct policy_error *e)
{
	command_fail(cmd, e->code, json_pack("{s:s}", "field", e->field), "%s",
		     e->message);
}

static void fail_db(struct command *cmd, char *err)
{
	command_fail(cmd, ERR_DATABASE, NULL, "%s (nothing was changed)", err);
	free(err);
}

static bool rate_ok(struct command *cmd, struct revenue *r, const char *peer,
		    uint64_t now)
{
	if (!ratelimit_would_exceed(&r->pipe->policy_rl, peer, now,
				    POLICY_RATE_LIMIT, POLICY_RATE_WINDOW_SEC))
		return true;
	command_fail(cmd, ERR_RATE_LIMITED,
		     json_pack("{s:s,s:i,s:i}", "peer_id", peer, "limit",
			       POLICY_RATE_LIMIT, "window_seconds",
			       POLICY_RATE_WINDOW_SEC),
		     "Rate limited: max %d changes/minute for %.12s...",
		     POLICY_RATE_LIMIT, peer);
	return false;
}

/* ---- a pending write: waits for the list of channel peers ---- */

enum pol_op {
	OP_SET,
	OP_TAG,
	OP_UNTAG,
	OP_DELETE,
	OP_BATCH,
	OP_IGNORE,
	OP_UNIGNORE,
	OP_BAN,
	OP_UNBAN
};

struct pol_write {
	struct command *cmd;
	struct revenue *r;
	enum pol_op op;
	char action[16];
	char peer[67];
	char tag[POLICY_MAX_TAG_LEN + 1];
	char reason[POLICY_MAX_TAG_LEN + 1];
	struct policy_update u;
	char strategy[32], rebalance[32];
	json_t *batch; /* OP_BATCH: the entries (owned) */
};

static void pol_write_free(struct pol_write *w)
{
	json_decref(w->batch);
	free(w);
}

static bool has_row(struct revenue *r, const char *peer, bool *found,
		    char **err)
{
	struct policy p;
	bool ok = policy_get(r, peer, now_sec(r), &p, found, err);
	policy_clear(&p);
	return ok;
}

/* Is @peer a channel peer (in @chans) or already under a policy? */
static bool peer_known(struct revenue *r, const json_t *chans, const char *peer,
		       bool *known, char **err)
{
	size_t i;
	json_t *c;

	*known = false;
	json_array_foreach(chans, i, c)
	{
		const char *id = json_str(c, "peer_id");
		if (id && !strcasecmp(id, peer)) {
			*known = true;
			return true;
		}
	}
	return has_row(r, peer, known, err);
}

static void fail_unknown(struct command *cmd, const char *peer)
{
	command_fail(cmd, ERR_NOT_FOUND, json_pack("{s:s}", "peer_id", peer),
		     "Unknown peer %s: no channel with it and no policy "
		     "(policies apply to channel peers)",
		     peer);
}

/* Apply one operation to @p (already loaded). */
static bool apply_op(struct pol_write *w, struct policy *p,
		     const struct policy_update *u, uint64_t now,
		     struct policy_error *e)
{
	switch (w->op) {
	case OP_SET:
	case OP_BATCH:
		return policy_apply_update(p, u, now, e);
	case OP_TAG:
		if (!policy_tag_add(p, w->tag)) {
			e->code = ERR_INVALID_PARAMS;
			snprintf(e->field, sizeof(e->field), "tag");
			snprintf(e->message, sizeof(e->message),
				 "tag: invalid or too many tags");
			return false;
		}
		return true;
	case OP_UNTAG:
		policy_tag_remove(p, w->tag);
		return true;
	case OP_IGNORE:
		/* Passive fees and no rebalancing, as the reference's ignore
		 * list meant; the expiry is kept. */
		p->strategy = FEE_CTL_PASSIVE;
		p->rebalance = POLICY_REB_DISABLED;
		policy_tag_add(p, "ignored");
		if (strcmp(w->reason, "ignored"))
			policy_tag_add(p, w->reason);
		return true;
	case OP_UNIGNORE:
		p->strategy = FEE_CTL_DYNAMIC;
		p->rebalance = POLICY_REB_ENABLED;
		policy_tag_remove(p, "ignored");
		return true;
	case OP_BAN:
		/* Durable: no expiry, the other tags kept. */
		p->strategy = FEE_CTL_PASSIVE;
		p->rebalance = POLICY_REB_DISABLED;
		p->expires_at = 0;
		if (!policy_tag_add(p, "banned")) {
			e->code = ERR_INVALID_PARAMS;
			snprintf(e->field, sizeof(e->field), "tags");
			snprintf(e->message, sizeof(e->message),
				 "peer already has %d tags: remove one to "
				 "ban it",
				 POLICY_MAX_TAGS);
			return false;
		}
		return true;
	case OP_UNBAN:
		p->strategy = FEE_CTL_DYNAMIC;
		p->rebalance = POLICY_REB_ENABLED;
		policy_tag_remove(p, "banned");
		return true;
	case OP_DELETE:
		return true;
	}
	return true;
}

static void write_one(struct pol_write *w, const json_t *chans)
{
	struct revenue *r = w->r;
	uint64_t now = now_sec(r);
	struct policy p;
	struct policy_error e;
	bool known, found;
	char *err = NULL;
	json_t *res;

	if (!peer_known(r, chans, w->peer, &known, &err)) {
		fail_db(w->cmd, err);
		return;
	}
	if (!known) {
		fail_unknown(w->cmd, w->peer);
		return;
	}
	if (!policy_get(r, w->peer, now, &p, &found, &err)) {
		policy_clear(&p);
		fail_db(w->cmd, err);
		return;
	}
	if ((w->op == OP_DELETE || w->op == OP_UNIGNORE) && !p.exists) {
		policy_clear(&p);
		command_fail(w->cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "peer_id", w->peer),
			     "No policy for peer %s", w->peer);
		return;
	}
	if (w->op == OP_UNBAN && !policy_has_tag(&p, "banned")) {
		policy_clear(&p);
		command_fail(w->cmd, ERR_NOT_FOUND,
			     json_pack("{s:s}", "peer_id", w->peer),
			     "Peer %s is not banned", w->peer);
		return;
	}
	if (!rate_ok(w->cmd, r, w->peer, now)) {
		policy_clear(&p);
		return;
	}
	if (!apply_op(w, &p, &w->u, now, &e)) {
		policy_clear(&p);
		fail_policy(w->cmd, &e);
		return;
	}
	if (!store_begin(r->db, &err) ||
	    !(w->op == OP_DELETE ? policy_delete(r, w->peer, now, &err)
				 : policy_put(r, &p, w->action, now, &err)) ||
	    !store_commit(r->db, &err)) {
		if (store_in_transaction(r->db))
			store_rollback(r->db);
		policy_clear(&p);
		fail_db(w->cmd, err);
		return;
	}
	ratelimit_note(&r->pipe->policy_rl, w->peer, now);
	plugin_log(r->plugin, PLOG_INFO, "policy %s %s: %s", w->action, w->peer,
		   w->op == OP_DELETE ? "deleted"
				      : fee_ctl_strategy_name(p.strategy));
	switch (w->op) {
	case OP_IGNORE:
		res =
		    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "status", "success",
			      "action", "ignore", "peer_id", w->peer, "reason",
			      w->reason, "message", "", "warning",
			      "DEPRECATED: Use 'revenue-policy set' instead.");
		json_object_set_new(res, "message",
				    json_sprintf("Peer %s set to passive "
						 "strategy with rebalancing "
						 "disabled.",
						 w->peer));
		json_object_set_new(res, "policy", policy_json(&p, now));
		break;
	case OP_UNIGNORE:
		res = json_pack("{s:s,s:s,s:s,s:s}", "status", "success",
				"action", "unignore", "peer_id", w->peer,
				"warning",
				"DEPRECATED: Use 'revenue-policy delete' "
				"instead.");
		json_object_set_new(res, "message",
				    json_sprintf("Peer %s reverted to default "
						 "policy (dynamic strategy, "
						 "rebalancing enabled).",
						 w->peer));
		json_object_set_new(res, "policy", policy_json(&p, now));
		break;
	case OP_BAN:
		res = json_pack(
		    "{s:s,s:s,s:s,s:s,s:O,s:s,s:o}", "status", "success",
		    "action", "ban", "peer_id", w->peer, "reason", w->reason,
		    "tags", p.tags, "message",
		    "Peer banned: no fee or rebalance management. Existing "
		    "channels are untouched.",
		    "policy", policy_json(&p, now));
		plugin_log(r->plugin, PLOG_INFO, "banned %s: %s", w->peer,
			   w->reason);
		break;
	case OP_UNBAN:
		res = json_pack("{s:s,s:s,s:s,s:O,s:o}", "status", "success",
				"action", "unban", "peer_id", w->peer, "tags",
				p.tags, "policy", policy_json(&p, now));
		break;
	case OP_DELETE:
		res = json_pack("{s:s,s:s,s:s}", "status", "success", "action",
				"delete", "peer_id", w->peer);
		break;
	default:
		res = json_pack("{s:s,s:s,s:s,s:o}", "status", "success",
				"action", w->action, "peer_id", w->peer,
				"policy", policy_json(&p, now));
		break;
	}
	policy_clear(&p);
	command_ok(w->cmd, res);
}

static void write_batch(struct pol_write *w, const json_t *chans)
{
	struct revenue *r = w->r;
	uint64_t now = now_sec(r);
	size_t n = json_array_size(w->batch), i;
	struct policy *pols = xzalloc(sizeof(*pols) * (n + 1));
	size_t loaded = 0;
	char *err = NULL;
	json_t *out = json_array();
	bool ok = false;

	/* Validate everything first: one bad entry writes nothing. */
	for (i = 0; i < n; i++) {
		const json_t *ent = json_array_get(w->batch, i);
		struct policy_update u;
		struct policy_error e;
		const char *given;
		char where[32], peer[67];
		bool known;

		snprintf(where, sizeof(where), "policies[%zu]", i);
		if (!policy_update_from_json(ent, where, &u, &given, &e)) {
			fail_policy(w->cmd, &e);
			goto out;
		}
		if (!given || !pubkey_hex_valid(given)) {
			command_fail(w->cmd, ERR_INVALID_PARAMS,
				     json_pack("{s:s}", "field", where),
				     "%s.peer_id: should be a 66-hex node id",
				     where);
			goto out;
		}
		/* Node ids are stored in lower case, as lightningd prints
		 * them. */
		for (size_t c = 0; c < sizeof(peer); c++)
			peer[c] = (char)(given[c] >= 'A' && given[c] <= 'F'
					     ? given[c] - 'A' + 'a'
					     : given[c]);
		for (size_t k = 0; k < loaded; k++)
			if (!strcasecmp(pols[k].peer_id, peer)) {
				command_fail(w->cmd, ERR_INVALID_PARAMS,
					     json_pack("{s:s}", "field", where),
					     "%s.peer_id: %s appears twice in "
					     "the batch",
					     where, peer);
				goto out;
			}
		if (!peer_known(r, chans, peer, &known, &err)) {
			fail_db(w->cmd, err);
			goto out;
		}
		if (!known) {
			fail_unknown(w->cmd, peer);
			goto out;
		}
		if (!rate_ok(w->cmd, r, peer, now))
			goto out;
		if (!policy_get(r, peer, now, &pols[loaded], NULL, &err)) {
			policy_clear(&pols[loaded]);
			fail_db(w->cmd, err);
			goto out;
		}
		loaded++;
		if (!policy_apply_update(&pols[loaded - 1], &u, now, &e)) {
			char f[96];
			snprintf(f, sizeof(f), "%s.%s", where, e.field);
			command_fail(w->cmd, e.code,
				     json_pack("{s:s}", "field", f), "%s: %s",
				     where, e.message);
			goto out;
		}
	}
	if (!store_begin(r->db, &err))
		goto dberr;
	for (i = 0; i < loaded; i++)
		if (!policy_put(r, &pols[i], "batch", now, &err)) {
			store_rollback(r->db);
			goto dberr;
		}
	if (!store_commit(r->db, &err)) {
		store_rollback(r->db);
		goto dberr;
	}
	for (i = 0; i < loaded; i++) {
		ratelimit_note(&r->pipe->policy_rl, pols[i].peer_id, now);
		json_array_append_new(out, policy_json(&pols[i], now));
	}
	plugin_log(r->plugin, PLOG_INFO, "policy batch: %zu peers", loaded);
	command_ok(w->cmd,
		   json_pack("{s:s,s:s,s:i,s:O}", "status", "success", "action",
			     "batch", "count", (int)loaded, "policies", out));
	ok = true;
	goto out;
dberr:
	fail_db(w->cmd, err);
out:
	(void)ok;
	json_decref(out);
	policy_array_free(pols, loaded);
}

static void got_channels(struct rpc *rpc, const struct rpc_reply *reply,
			 void *arg)
{
	struct pol_write *w = arg;
	const json_t *chans =
	    reply->error ? NULL : json_object_get(reply->result, "channels");

	if (reply->error) {
		char *e = rpc_reply_errtext(reply);
		command_fail(w->cmd, ERR_RPC_FAILED, NULL, "%s", e);
		free(e);
	} else if (w->op == OP_BATCH) {
		write_batch(w, chans);
	} else {
		write_one(w, chans);
	}
	pol_write_free(w);
	(void)rpc;
}

static void start_write(struct pol_write *w)
{
	rpc_call(plugin_rpc(w->r->plugin), command_id(w->cmd),
		 "listpeerchannels", NULL, got_channels, w);
}

/* ---- read-only actions ---- */

static void policy_list(struct command *cmd, struct revenue *r)
{
	struct policy *pols;
	size_t n;
	char *err = NULL;
	uint64_t now = now_sec(r);
	json_t *arr;

	if (!policy_load_all(r, now, &pols, &n, &err)) {
		fail_db(cmd, err);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, policy_json(&pols[i], now));
	policy_array_free(pols, n);
	command_ok(cmd,
		   json_pack("{s:o,s:i}", "policies", arr, "count", (int)n));
}

static void policy_find_tag(struct command *cmd, struct revenue *r,
			    const char *tag)
{
	struct policy *pols;
	size_t n;
	char *err = NULL;
	json_t *peers;

	if (!policy_load_all(r, now_sec(r), &pols, &n, &err)) {
		fail_db(cmd, err);
		return;
	}
	peers = json_array();
	for (size_t i = 0; i < n; i++)
		if (policy_has_tag(&pols[i], tag))
			json_array_append_new(peers,
					      json_string(pols[i].peer_id));
	policy_array_free(pols, n);
	command_ok(cmd, json_pack("{s:s,s:o,s:i}", "tag", tag, "peers", peers,
				  "count", (int)json_array_size(peers)));
}

static void policy_changes(struct command *cmd, struct revenue *r,
			   uint64_t since)
{
	char *err = NULL;
	uint64_t last = 0;
	json_t *arr = policy_changes_json(r, since, &last, &err);

	if (!arr) {
		fail_db(cmd, err);
		return;
	}
	command_ok(cmd, json_pack("{s:o,s:I,s:I}", "changes", arr, "since",
				  (json_int_t)since, "last_change_timestamp",
				  (json_int_t)last));
}

/* ---- revenue-policy ---- */

void json_revenue_policy(struct command *cmd, const json_t *params)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	const char *action = "list", *peer = NULL, *strategy = NULL,
		   *rebalance = NULL, *tag = NULL;
	int64_t fee_ppm = 0;
	double mmin = 0, mmax = 0, expires = 0;
	uint64_t since = 0;
	const json_t *policies = NULL, *internal = NULL, *admin = NULL;
	bool has_fee = false, has_mmin = false, has_mmax = false,
	     has_exp = false, has_peer = false, has_strategy = false,
	     has_rebalance = false;
	const struct param spec[] = {
	    {"action", PARAM_STRING, false, &action},
	    {"peer_id", PARAM_STRING, false, &peer, &has_peer},
	    {"strategy", PARAM_STRING, false, &strategy, &has_strategy},
	    {"rebalance", PARAM_STRING, false, &rebalance, &has_rebalance},
	    {"fee_ppm", PARAM_INT, false, &fee_ppm, &has_fee},
	    {"tag", PARAM_STRING, false, &tag},
	    {"fee_multiplier_min", PARAM_DOUBLE, false, &mmin, &has_mmin},
	    {"fee_multiplier_max", PARAM_DOUBLE, false, &mmax, &has_mmax},
	    {"expires_in_hours", PARAM_DOUBLE, false, &expires, &has_exp},
	    {"policies", PARAM_JSON, false, &policies},
	    {"since", PARAM_UINT, false, &since},
	    {"internal", PARAM_JSON, false, &internal},
	    {"admin", PARAM_JSON, false, &admin},
	    {NULL},
	};
	char act[16];
	struct pol_write *w;
	size_t k = 0;

	if (!command_params(cmd, params, spec))
		return;
	/* Trimmed, lower case (as the reference). */
	while (*action == ' ')
		action++;
	for (; action[k] && action[k] != ' ' && k < sizeof(act) - 1; k++)
		act[k] = (char)(action[k] >= 'A' && action[k] <= 'Z'
				    ? action[k] - 'A' + 'a'
				    : action[k]);
	act[k] = '\0';

	if (!strcmp(act, "list")) {
		policy_list(cmd, r);
		return;
	}
	if (!strcmp(act, "find")) {
		/* `revenue-policy find mytag` puts the tag where peer_id
		 * goes positionally: accept it there (defect 39). */
		if (!tag && peer && !pubkey_hex_valid(peer))
			tag = peer;
		if (!tag) {
			command_fail(cmd, ERR_INVALID_PARAMS,
				     json_pack("{s:s}", "field", "tag"),
				     "tag: required for find");
			return;
		}
		policy_find_tag(cmd, r, tag);
		return;
	}
	if (!strcmp(act, "changes")) {
		policy_changes(cmd, r, since);
		return;
	}
	if (!strcmp(act, "batch")) {
		if (!json_is_array(policies) ||
		    json_array_size(policies) == 0 ||
		    json_array_size(policies) > POLICY_BATCH_MAX) {
			command_fail(cmd, ERR_INVALID_PARAMS,
				     json_pack("{s:s}", "field", "policies"),
				     "policies: should be an array of 1..%d "
				     "policy objects",
				     POLICY_BATCH_MAX);
			return;
		}
		w = xzalloc(sizeof(*w));
		w->cmd = cmd;
		w->r = r;
		w->op = OP_BATCH;
		snprintf(w->action, sizeof(w->action), "batch");
		w->batch = json_deep_copy(policies);
		start_write(w);
		return;
	}
	if (strcmp(act, "get") && strcmp(act, "set") && strcmp(act, "delete") &&
	    strcmp(act, "tag") && strcmp(act, "untag")) {
		command_fail(cmd, ERR_INVALID_PARAMS,
			     json_pack("{s:s}", "field", "action"),
			     "action: '%s' is not one of list, get, find, "
			     "changes, set, delete, tag, untag, batch",
			     action);
		return;
	}
	if (!peer || !pubkey_hex_valid(peer)) {
		command_fail(cmd, ERR_INVALID_PARAMS,
			     json_pack("{s:s}", "field", "peer_id"),
			     "Invalid peer_id: %s (a 66-hex node id is "
			     "required for %s)",
			     peer ? peer : "missing", act);
		return;
	}
	if (!strcmp(act, "get")) {
		struct policy p;
		char *err = NULL;
		uint64_t now = now_sec(r);
		/* Read only: an expired policy reads as the default and is
		 * left for the flow cycle to delete (defect 38). */
		if (!policy_get(r, peer, now, &p, NULL, &err)) {
			policy_clear(&p);
			fail_db(cmd, err);
			return;
		}
		command_ok(cmd,
			   json_pack("{s:o}", "policy", policy_json(&p, now)));
		policy_clear(&p);
		return;
	}
	w = xzalloc(sizeof(*w));
	w->cmd = cmd;
	w->r = r;
	snprintf(w->action, sizeof(w->action), "%s", act);
	snprintf(w->peer, sizeof(w->peer), "%s", peer);
	for (char *c = w->peer; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	if (!strcmp(act, "set")) {
		w->op = OP_SET;
		if (!has_strategy && !has_rebalance && !has_fee && !has_mmin &&
		    !has_mmax && !has_exp) {
			pol_write_free(w);
			command_fail(cmd, ERR_INVALID_PARAMS,
				     json_pack("{s:s}", "field", "strategy"),
				     "set: give at least one of strategy, "
				     "rebalance, fee_ppm, fee_multiplier_min, "
				     "fee_multiplier_max, expires_in_hours");
			return;
		}
		if (has_fee && fee_ppm < 0) {
			pol_write_free(w);
			command_fail(cmd, ERR_OUT_OF_RANGE,
				     json_pack("{s:s}", "field", "fee_ppm"),
				     "fee_ppm must be an integer 0..%d, not "
				     "%lld",
				     POLICY_MAX_FEE_PPM, (long long)fee_ppm);
			return;
		}
		/* The update borrows strings from w's own copies. */
		snprintf(w->strategy, sizeof(w->strategy), "%s",
			 strategy ? strategy : "");
		snprintf(w->rebalance, sizeof(w->rebalance), "%s",
			 rebalance ? rebalance : "");
		w->u.has_strategy = has_strategy;
		w->u.strategy = w->strategy;
		w->u.has_rebalance = has_rebalance;
		w->u.rebalance = w->rebalance;
		w->u.has_fee_ppm = has_fee;
		w->u.fee_ppm = fee_ppm;
		w->u.has_mult_min = has_mmin;
		w->u.mult_min = mmin;
		w->u.has_mult_max = has_mmax;
		w->u.mult_max = mmax;
		w->u.has_expires = has_exp;
		w->u.expires_in_hours = expires;
	} else if (!strcmp(act, "delete")) {
		w->op = OP_DELETE;
	} else {
		w->op = !strcmp(act, "tag") ? OP_TAG : OP_UNTAG;
		if (!tag || !*tag || strlen(tag) > POLICY_MAX_TAG_LEN) {
			pol_write_free(w);
			command_fail(cmd, ERR_INVALID_PARAMS,
				     json_pack("{s:s}", "field", "tag"),
				     "tag: a non-empty tag of at most %d "
				     "characters is required for %s",
				     POLICY_MAX_TAG_LEN, act);
			return;
		}
		snprintf(w->tag, sizeof(w->tag), "%s", tag);
	}
	/* Writes to a peer we never heard of are refused; delete and untag
	 * only need the policy row. */
	start_write(w);
}

/* ---- the ignore and ban trios ---- */

/* Start @op on @peer (lower-cased, as lightningd prints node ids). */
static void start_peer_write(struct command *cmd, enum pol_op op,
			     const char *action, const char *peer,
			     const char *reason)
{
	struct pol_write *w = xzalloc(sizeof(*w));

	w->cmd = cmd;
	w->r = plugin_app(command_plugin(cmd));
	w->op = op;
	snprintf(w->action, sizeof(w->action), "%s", action);
	snprintf(w->peer, sizeof(w->peer), "%s", peer);
	for (char *c = w->peer; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	snprintf(w->reason, sizeof(w->reason), "%s", reason ? reason : "");
	start_write(w);
}

/* peer_id [reason]; the reference's internal/admin flags are accepted
 * and ignored (defect 40). */
static void peer_reason_cmd(struct command *cmd, const json_t *params,
			    enum pol_op op, const char *action,
			    const char *def_reason)
{
	const char *peer = NULL, *reason = def_reason;
	const json_t *internal = NULL, *admin = NULL;
	const struct param with_reason[] = {
	    {"peer_id", PARAM_PUBKEY, true, &peer},
	    {"reason", PARAM_STRING, false, &reason},
	    {"internal", PARAM_JSON, false, &internal},
	    {"admin", PARAM_JSON, false, &admin},
	    {NULL},
	};
	const struct param without[] = {
	    {"peer_id", PARAM_PUBKEY, true, &peer},
	    {"internal", PARAM_JSON, false, &internal},
	    {"admin", PARAM_JSON, false, &admin},
	    {NULL},
	};

	if (!command_params(cmd, params, def_reason ? with_reason : without))
		return;
	if (reason && (!*reason || strlen(reason) > POLICY_MAX_TAG_LEN)) {
		command_fail(cmd, ERR_INVALID_PARAMS,
			     json_pack("{s:s}", "field", "reason"),
			     "reason: 1..%d characters", POLICY_MAX_TAG_LEN);
		return;
	}
	start_peer_write(cmd, op, action, peer, reason);
}

void json_revenue_ignore(struct command *cmd, const json_t *params)
{
	peer_reason_cmd(cmd, params, OP_IGNORE, "ignore", "manual");
}

void json_revenue_unignore(struct command *cmd, const json_t *params)
{
	peer_reason_cmd(cmd, params, OP_UNIGNORE, "unignore", NULL);
}

void json_revenue_ban(struct command *cmd, const json_t *params)
{
	peer_reason_cmd(cmd, params, OP_BAN, "ban", "operator");
}

void json_revenue_unban(struct command *cmd, const json_t *params)
{
	peer_reason_cmd(cmd, params, OP_UNBAN, "unban", NULL);
}

void json_revenue_list_banned(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};
	struct revenue *r = plugin_app(command_plugin(cmd));
	struct policy *pols;
	size_t n;
	char *err = NULL;
	json_t *arr;

	if (!command_params(cmd, params, none))
		return;
	if (!policy_load_all(r, now_sec(r), &pols, &n, &err)) {
		fail_db(cmd, err);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		if (policy_has_tag(&pols[i], "banned"))
			json_array_append_new(
			    arr, json_pack("{s:s,s:O,s:s,s:s,s:I}", "peer_id",
					   pols[i].peer_id, "tags",
					   pols[i].tags, "strategy",
					   fee_ctl_strategy_name(
					       pols[i].strategy),
					   "rebalance_mode",
					   policy_rebalance_name(
					       pols[i].rebalance),
					   "banned_at",
					   (json_int_t)pols[i].updated_at));
	policy_array_free(pols, n);
	command_ok(cmd, json_pack("{s:i,s:o}", "count",
				  (int)json_array_size(arr), "banned_peers",
				  arr));
}

void json_revenue_list_ignored(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};
	struct revenue *r = plugin_app(command_plugin(cmd));
	struct policy *pols;
	size_t n;
	char *err = NULL;
	json_t *arr;

	if (!command_params(cmd, params, none))
		return;
	if (!policy_load_all(r, now_sec(r), &pols, &n, &err)) {
		fail_db(cmd, err);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *reason = "manual";
		size_t k;
		json_t *t;
		if (pols[i].strategy != FEE_CTL_PASSIVE ||
		    pols[i].rebalance != POLICY_REB_DISABLED)
			continue;
		json_array_foreach(
		    pols[i].tags, k,
		    t) if (strcmp(json_string_value(t), "ignored"))
		{
			reason = json_string_value(t);
			break;
		}
		json_array_append_new(
		    arr, json_pack("{s:s,s:s,s:I}", "peer_id", pols[i].peer_id,
				   "reason", reason, "ignored_at",
				   (json_int_t)pols[i].updated_at));
	}
	policy_array_free(pols, n);
	command_ok(cmd, json_pack("{s:o,s:i,s:s}", "ignored_peers", arr,
				  "count", (int)json_array_size(arr), "warning",
				  "DEPRECATED: Use 'revenue-policy list' "
				  "instead."));
}
