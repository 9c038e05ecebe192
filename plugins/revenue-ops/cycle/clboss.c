/* CLBOSS coexistence: the calls to CLBOSS the cycles make; see
 * clboss.h. The RPCs are in rpc/clboss.c. */
#include "plugins/revenue-ops/cycle/clboss.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/store/clboss.h"
#include "plugins/revenue-ops/store/policy.h"
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
			good = clboss_forget(r, c->peer[i], c->tag[i], &err);
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
	char *err = NULL;
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
	/* Every record first (a read must not stay open across the policy
	 * lookups), then keep the ones to hand back. */
	if (!clboss_unmanaged_all(r, &c->peer, &c->tag, &c->n, &err)) {
		plugin_log(r->plugin, PLOG_WARN, "clboss reconcile: %s", err);
		free(err);
		reconcile_end(c);
		return;
	}
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
