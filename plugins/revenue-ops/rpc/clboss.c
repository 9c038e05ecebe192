/* revenue-clboss-status and revenue-remanage: what CLBOSS says and what
 * we recorded (store/clboss.h), and handing a peer back to it. */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/clboss.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/clboss.h"
#include <stdio.h>
#include <string.h>

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
			   "recorded_unmanaged", clboss_unmanaged_json(r, NULL));
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
				good = clboss_forget(r, m->peer, m->tags[i],
						     &err);
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
