/* CLBOSS coexistence and its RPCs (revenue-clboss-status,
 * revenue-remanage); see clboss.h. */
#include "plugins/revenue-ops/cycle/clboss.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/store/policy.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <string.h>

#define CLBOSS_RECHECK_SEC 300

static uint64_t now_sec(struct revenue *r)
{
	return clock_wall_sec(plugin_clock(r->plugin));
}

static bool is_clboss(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strcmp(base, "clboss") || str_starts_with(base, "clboss");
}

struct detect {
	struct revenue *r;
	clboss_detect_cb cb;
	void *arg;
};

static void detect_reply(struct rpc *rpc, const struct rpc_reply *reply,
			 void *arg)
{
	struct detect *d = arg;
	struct revenue *r = d->r;
	bool present = false;
	size_t i;
	json_t *pl;

	if (!reply->error) {
		json_array_foreach(json_object_get(reply->result, "plugins"), i,
				   pl)
		{
			const char *name = json_str(pl, "name");
			if (name && is_clboss(name) &&
			    json_is_true(json_object_get(pl, "active")))
				present = true;
		}
		if (r->pipe) {
			r->pipe->clboss_present = present;
			r->pipe->clboss_checked_sec = now_sec(r);
		}
	}
	d->cb(r, present, d->arg);
	free(d);
	(void)rpc;
}

void clboss_detect(struct revenue *r, const char *parent_id,
		   clboss_detect_cb cb, void *arg)
{
	struct pipeline *pp = r->pipe;
	struct detect *d;

	/* Present stays cached (it does not vanish between cycles without
	 * a failing call, which resets the cache); absent is re-checked. */
	if (pp &&
	    (pp->clboss_present == 1 ||
	     (pp->clboss_present == 0 &&
	      now_sec(r) < pp->clboss_checked_sec + CLBOSS_RECHECK_SEC))) {
		cb(r, pp->clboss_present == 1, arg);
		return;
	}
	d = xzalloc(sizeof(*d));
	d->r = r;
	d->cb = cb;
	d->arg = arg;
	rpc_call(plugin_rpc(r->plugin), parent_id, "plugin",
		 json_pack("{s:s}", "subcommand", "list"), detect_reply, d);
}

struct unmanage {
	struct revenue *r;
	clboss_unmanage_cb cb;
	void *arg;
	bool *ok;
	size_t pending;
};

struct unmanage_one {
	struct unmanage *u;
	size_t idx;
};

static void unmanage_finish(struct unmanage *u)
{
	if (--u->pending)
		return;
	u->cb(u->r, u->ok, u->arg);
	free(u->ok);
	free(u);
}

static void unmanage_reply(struct rpc *rpc, const struct rpc_reply *reply,
			   void *arg)
{
	struct unmanage_one *o = arg;
	struct unmanage *u = o->u;

	if (!reply->error) {
		u->ok[o->idx] = true;
	} else if (strstr(reply->error_message, "not managed") ||
		   strstr(reply->error_message, "already unmanaged")) {
		u->ok[o->idx] = true;
	} else {
		char *e = rpc_reply_errtext(reply);
		plugin_log(u->r->plugin, PLOG_WARN,
			   "clboss: could not unmanage a peer, its fee is "
			   "left alone this cycle: %s",
			   e);
		free(e);
		/* CLBOSS may have gone: detect again next time. */
		if (u->r->pipe && reply->error_code == -32601)
			u->r->pipe->clboss_present = -1;
	}
	free(o);
	unmanage_finish(u);
	(void)rpc;
}

void clboss_unmanage_peers(struct revenue *r, const char *parent_id,
			   char *const *peers, size_t n, clboss_unmanage_cb cb,
			   void *arg)
{
	struct unmanage *u = xzalloc(sizeof(*u));

	u->r = r;
	u->cb = cb;
	u->arg = arg;
	u->ok = xzalloc(sizeof(*u->ok) * (n + 1));
	/* One extra count held until every call is issued, so a reply
	 * completed synchronously cannot finish early. */
	u->pending = n + 1;
	for (size_t i = 0; i < n; i++) {
		struct unmanage_one *o = xzalloc(sizeof(*o));
		o->u = u;
		o->idx = i;
		rpc_call(plugin_rpc(r->plugin), parent_id, "clboss-unmanage",
			 json_pack("[s,s]", peers[i], CLBOSS_FEE_TAGS),
			 unmanage_reply, o);
	}
	unmanage_finish(u);
}

bool clboss_record(struct revenue *r, const char *peer_id, const char *tags,
		   uint64_t now, char **err)
{
	char *copy = xstrdup(tags), *save = NULL;
	bool ok = true;

	for (char *t = strtok_r(copy, ",", &save); t && ok;
	     t = strtok_r(NULL, ",", &save)) {
		sqlite3_stmt *st = store_stmt(
		    r->db,
		    "INSERT OR REPLACE INTO clboss_unmanaged (peer_id, tag, "
		    "unmanaged_at) VALUES (?1, ?2, ?3)",
		    err);
		if (!st) {
			ok = false;
			break;
		}
		sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, t, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		ok = store_step_done(r->db, st, "clboss_unmanaged", err);
	}
	free(copy);
	return ok;
}

/* ---- revenue-clboss-status ---- */

static json_t *unmanaged_rows(struct revenue *r, const char *peer)
{
	char *err = NULL;
	json_t *arr = json_array();
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT peer_id, tag, unmanaged_at FROM clboss_unmanaged WHERE "
	    "?1 IS NULL OR peer_id = ?1 ORDER BY peer_id, tag",
	    &err);
	if (!st) {
		free(err);
		return arr;
	}
	if (peer)
		sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    arr, json_pack("{s:s,s:s,s:I}", "peer_id",
				   sqlite3_column_text(st, 0), "tag",
				   sqlite3_column_text(st, 1), "unmanaged_at",
				   (json_int_t)sqlite3_column_int64(st, 2)));
	store_done(st);
	return arr;
}

struct status_req {
	struct command *cmd;
	json_t *res;
	int pending;
};

static void status_finish(struct status_req *s)
{
	if (--s->pending)
		return;
	command_ok(s->cmd, s->res);
	free(s);
}

static void status_list_reply(struct rpc *rpc, const struct rpc_reply *reply,
			      void *arg)
{
	struct status_req *s = arg;
	const json_t *list = json_object_get(reply->result, "unmanaged");
	json_t *peers = json_array();

	if (!reply->error && list) {
		/* Newer CLBOSS returns an object keyed by node id, older an
		 * array of {nodeid, tags}. */
		if (json_is_object(list)) {
			const char *k;
			json_t *v;
			json_object_foreach((json_t *)list, k, v)
			    json_array_append_new(peers, json_pack("{s:s,s:O}",
								   "peer_id", k,
								   "tags", v));
		} else {
			size_t i;
			json_t *e;
			json_array_foreach(list, i, e)
			    json_array_append(peers, e);
		}
	}
	json_object_set_new(s->res, "unmanaged_peers", peers);
	status_finish(s);
	(void)rpc;
}

static void status_status_reply(struct rpc *rpc, const struct rpc_reply *reply,
				void *arg)
{
	struct status_req *s = arg;
	if (reply->error) {
		char *e = rpc_reply_errtext(reply);
		json_object_set_new(
		    s->res, "message",
		    json_sprintf("Could not get clboss status: %s", e));
		free(e);
	} else {
		json_object_set_new(s->res, "clboss_status",
				    json_deep_copy(reply->result));
	}
	status_finish(s);
	(void)rpc;
}

static void status_detected(struct revenue *r, bool present, void *arg)
{
	struct status_req *s = arg;
	struct rpc *rpc = plugin_rpc(r->plugin);

	json_object_set_new(s->res, "clboss_available", json_boolean(present));
	if (!present) {
		json_object_set_new(s->res, "unmanaged_peers", json_array());
		json_object_set_new(s->res, "message",
				    json_string("clboss is not available"));
		status_finish(s);
		return;
	}
	s->pending += 2;
	rpc_call(rpc, command_id(s->cmd), "clboss-status", NULL,
		 status_status_reply, s);
	rpc_call(rpc, command_id(s->cmd), "clboss-unmanaged-list", NULL,
		 status_list_reply, s);
	status_finish(s);
}

void json_revenue_clboss_status(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};
	struct revenue *r = plugin_app(command_plugin(cmd));
	struct status_req *s;

	if (!command_params(cmd, params, none))
		return;
	s = xzalloc(sizeof(*s));
	s->cmd = cmd;
	s->pending = 1;
	s->res = json_pack("{s:b,s:o}", "clboss_enabled",
			   cfg_b(&r->cfg, CFG_CLBOSS_ENABLED),
			   "recorded_unmanaged", unmanaged_rows(r, NULL));
	if (!cfg_b(&r->cfg, CFG_CLBOSS_ENABLED)) {
		json_object_set_new(s->res, "clboss_available", json_false());
		json_object_set_new(s->res, "unmanaged_peers", json_array());
		json_object_set_new(
		    s->res, "message",
		    json_string("clboss integration is disabled"));
		status_finish(s);
		return;
	}
	/* An explicit status request always asks afresh. */
	r->pipe->clboss_present = -1;
	clboss_detect(r, command_id(cmd), status_detected, s);
}

/* ---- revenue-remanage ---- */

struct remanage {
	struct command *cmd;
	char peer[67];
	const char *tags[4];
	size_t ntags, pending, ok, failed;
	bool ok_tag[4];
	char tag_arg[16];
};

/* CLBOSS manages @tag of @peer again: drop our record of it. */
static bool forget_tag(struct revenue *r, const char *peer, const char *tag,
		       char **err)
{
	sqlite3_stmt *st = store_stmt(r->db,
				      "DELETE FROM clboss_unmanaged WHERE "
				      "peer_id = ?1 AND tag = ?2",
				      err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_TRANSIENT);
	return store_step_done(r->db, st, "clboss_unmanaged", err);
}

static void remanage_finish(struct remanage *m)
{
	struct revenue *r = plugin_app(command_plugin(m->cmd));
	char *err = NULL;
	const char *msg_tag = m->ntags == 1 ? m->tags[0] : "all";
	json_t *res;

	if (--m->pending)
		return;
	/* Forget the tags CLBOSS took back. */
	if (m->ok && store_begin(r->db, &err)) {
		bool good = true;
		for (size_t i = 0; i < m->ntags && good; i++)
			if (m->ok_tag[i])
				good = forget_tag(r, m->peer, m->tags[i], &err);
		if (good)
			good = store_commit(r->db, &err);
		else
			store_rollback(r->db);
	}
	if (err) {
		plugin_log(r->plugin, PLOG_WARN, "remanage: %s", err);
		free(err);
	}
	res = json_pack("{s:s,s:s,s:s,s:s,s:b}", "status",
			m->ok ? "success" : "error", "peer_id", m->peer, "tag",
			msg_tag, "action", "remanage", "success", m->ok > 0);
	if (m->ok && !m->failed)
		json_object_set_new(res, "message",
				    json_sprintf("Re-enabled clboss management "
						 "for %s",
						 m->peer));
	else if (m->ok)
		json_object_set_new(
		    res, "message",
		    json_sprintf("Partially remanaged %s: %zu ok, "
				 "%zu failed",
				 m->peer, m->ok, m->failed));
	else
		json_object_set_new(res, "message",
				    json_sprintf("Failed to remanage any tags "
						 "for %s",
						 m->peer));
	command_ok(m->cmd, res);
	free(m);
}

struct remanage_one {
	struct remanage *m;
	size_t idx;
};

static void remanage_reply(struct rpc *rpc, const struct rpc_reply *reply,
			   void *arg)
{
	struct remanage_one *o = arg;
	struct remanage *m = o->m;

	if (reply->error) {
		m->failed++;
	} else {
		m->ok++;
		m->ok_tag[o->idx] = true;
	}
	free(o);
	remanage_finish(m);
	(void)rpc;
}

static void remanage_detected(struct revenue *r, bool present, void *arg)
{
	struct remanage *m = arg;

	if (!present) {
		command_ok(m->cmd,
			   json_pack("{s:s,s:s,s:s,s:b,s:s}", "status",
				     "skipped", "peer_id", m->peer, "action",
				     "remanage", "success", false, "message",
				     "clboss is not available: nothing to "
				     "re-manage"));
		free(m);
		return;
	}
	m->pending = m->ntags + 1;
	for (size_t i = 0; i < m->ntags; i++) {
		struct remanage_one *o = xzalloc(sizeof(*o));
		o->m = m;
		o->idx = i;
		rpc_call(
		    plugin_rpc(r->plugin), command_id(m->cmd), "clboss-manage",
		    json_pack("[s,s]", m->peer, m->tags[i]), remanage_reply, o);
	}
	remanage_finish(m);
}

void json_revenue_remanage(struct command *cmd, const json_t *params)
{
	static const char *const all[] = {"lnfee", "balance", "open", "close"};
	struct revenue *r = plugin_app(command_plugin(cmd));
	const char *peer = NULL, *tag = NULL;
	const struct param spec[] = {
	    {"peer_id", PARAM_PUBKEY, true, &peer},
	    {"tag", PARAM_STRING, false, &tag},
	    {NULL},
	};
	struct remanage *m;

	if (!command_params(cmd, params, spec))
		return;
	m = xzalloc(sizeof(*m));
	m->cmd = cmd;
	snprintf(m->peer, sizeof(m->peer), "%s", peer);
	if (tag) {
		for (size_t i = 0; i < ARRAY_SIZE(all); i++)
			if (!strcmp(tag, all[i]))
				m->tags[m->ntags++] = all[i];
		if (!m->ntags) {
			free(m);
			command_fail(cmd, ERR_INVALID_PARAMS, NULL,
				     "tag: '%s' is not one of lnfee, balance, "
				     "open, close",
				     tag);
			return;
		}
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(all); i++)
			m->tags[m->ntags++] = all[i];
	}
	if (!cfg_b(&r->cfg, CFG_CLBOSS_ENABLED)) {
		command_ok(cmd,
			   json_pack("{s:s,s:s,s:s,s:b,s:s}", "status",
				     "skipped", "peer_id", m->peer, "action",
				     "remanage", "success", false, "message",
				     "clboss integration is disabled"));
		free(m);
		return;
	}
	if (cfg_b(&r->cfg, CFG_DRY_RUN)) {
		command_ok(cmd,
			   json_pack("{s:s,s:s,s:s,s:b,s:s}", "status",
				     "dry_run", "peer_id", m->peer, "action",
				     "remanage", "success", true, "message",
				     "[DRY RUN] Would re-enable clboss "
				     "management"));
		free(m);
		return;
	}
	clboss_detect(r, command_id(cmd), remanage_detected, m);
}

/* ---- reconcile ---- */

struct reconcile {
	struct revenue *r;
	void (*done)(struct revenue *r, void *arg);
	void *arg;
	char (*peer)[67];
	char (*tag)[16];
	bool *ok;
	size_t n, pending;
};

struct reconcile_one {
	struct reconcile *c;
	size_t idx;
};

static void reconcile_end(struct reconcile *c)
{
	void (*done)(struct revenue *, void *) = c->done;
	struct revenue *r = c->r;
	void *arg = c->arg;

	free(c->peer);
	free(c->tag);
	free(c->ok);
	free(c);
	done(r, arg);
}

static void reconcile_finish(struct reconcile *c)
{
	struct revenue *r = c->r;
	char *err = NULL;
	bool good = true;
	size_t back = 0;

	if (--c->pending)
		return;
	if (!r->db || !store_begin(r->db, &err)) {
		good = false;
	} else {
		for (size_t i = 0; i < c->n && good; i++) {
			if (!c->ok[i])
				continue;
			good = forget_tag(r, c->peer[i], c->tag[i], &err);
			back++;
		}
		if (good)
			good = store_commit(r->db, &err);
		else
			store_rollback(r->db);
	}
	if (!good && err) {
		plugin_log(r->plugin, PLOG_WARN, "clboss reconcile: %s", err);
	} else if (back) {
		plugin_log(r->plugin, PLOG_INFO,
			   "clboss: %zu tags handed back for peers we no "
			   "longer manage",
			   back);
	}
	free(err);
	reconcile_end(c);
}

static void reconcile_reply(struct rpc *rpc, const struct rpc_reply *reply,
			    void *arg)
{
	struct reconcile_one *o = arg;
	o->c->ok[o->idx] = reply->error == NULL;
	reconcile_finish(o->c);
	free(o);
	(void)rpc;
}

static void reconcile_detected(struct revenue *r, bool present, void *arg)
{
	struct reconcile *c = arg;

	if (!present) {
		reconcile_end(c);
		return;
	}
	c->pending = c->n + 1;
	for (size_t i = 0; i < c->n; i++) {
		struct reconcile_one *o = xzalloc(sizeof(*o));
		o->c = c;
		o->idx = i;
		rpc_call(plugin_rpc(r->plugin), NULL, "clboss-manage",
			 json_pack("[s,s]", c->peer[i], c->tag[i]),
			 reconcile_reply, o);
	}
	reconcile_finish(c);
}

void clboss_reconcile(struct revenue *r, const struct node_view *v,
		      void (*done)(struct revenue *r, void *arg), void *arg)
{
	struct reconcile *c;
	sqlite3_stmt *st;
	char *err = NULL;
	size_t cap = 0, cap2 = 0;
	uint64_t now = now_sec(r);

	if (!cfg_b(&r->cfg, CFG_CLBOSS_ENABLED) ||
	    cfg_b(&r->cfg, CFG_DRY_RUN)) {
		done(r, arg);
		return;
	}
	c = xzalloc(sizeof(*c));
	c->r = r;
	c->done = done;
	c->arg = arg;
	st = store_stmt(r->db, "SELECT peer_id, tag FROM clboss_unmanaged",
			&err);
	if (!st) {
		plugin_log(r->plugin, PLOG_WARN, "clboss reconcile: %s", err);
		free(err);
		reconcile_end(c);
		return;
	}
	/* Collect every record first (a read must not stay open across
	 * the policy lookups), then keep the ones to hand back. */
	while (sqlite3_step(st) == SQLITE_ROW) {
		xgrow(&c->peer, &cap, c->n + 1, sizeof(*c->peer));
		xgrow(&c->tag, &cap2, c->n + 1, sizeof(*c->tag));
		snprintf(c->peer[c->n], sizeof(c->peer[0]), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(c->tag[c->n], sizeof(c->tag[0]), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		c->n++;
	}
	store_done(st);
	{
		size_t k = 0;
		for (size_t i = 0; i < c->n; i++) {
			bool active = false, keep;
			for (size_t j = 0; j < v->nchans && !active; j++)
				active =
				    v->chans[j].active &&
				    !strcmp(v->chans[j].peer_id, c->peer[i]);
			keep = !active;
			if (active) {
				/* Still ours unless its policy says hands
				 * off. */
				struct policy p;
				char *e2 = NULL;
				if (policy_get(r, c->peer[i], now, &p, NULL,
					       &e2))
					keep = p.strategy == FEE_CTL_PASSIVE;
				policy_clear(&p);
				free(e2);
			}
			if (keep) {
				memmove(c->peer[k], c->peer[i],
					sizeof(c->peer[0]));
				memmove(c->tag[k], c->tag[i],
					sizeof(c->tag[0]));
				k++;
			}
		}
		c->n = k;
	}
	c->ok = xzalloc(sizeof(bool) * (c->n + 1));
	if (!c->n) {
		reconcile_end(c);
		return;
	}
	clboss_detect(r, NULL, reconcile_detected, c);
}
