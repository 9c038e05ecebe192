/* The live view of the node; see acct_live.h. */
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct.h"
#include <string.h>

static uint64_t now_sec(const struct revenue *r)
{
	return clock_wall_sec(plugin_clock(r->plugin));
}

struct live_fetch {
	struct revenue *r;
	unsigned need;
	struct acct_live *v;
	json_t *channels;
	int pending;
	char *err;
	void (*done)(struct revenue *r, struct acct_live *v, const char *err,
		     void *arg);
	void *arg;
};

void acct_live_free(struct acct_live *v)
{
	if (!v)
		return;
	free(v->chans);
	json_decref(v->closed);
	free(v);
}

static void live_step(struct live_fetch *f)
{
	struct acct_live *v = f->v;

	if (--f->pending)
		return;
	if (!f->err && f->channels) {
		struct chan_info *ci;
		size_t n, skipped;
		char *err = NULL;
		if (!node_parse_peerchannels(f->channels, &ci, &n, &skipped,
					       &err)) {
			f->err = xfmt("listpeerchannels: %s", err);
			free(err);
		} else {
			v->chans = xzalloc(sizeof(*v->chans) * (n + 1));
			for (size_t i = 0; i < n; i++) {
				struct acct_live_chan *c = &v->chans[v->n];
				c->ci = ci[i];
				if (!acct_find_chan(f->channels, false,
						    ci[i].channel_id,
						    ci[i].scid, &c->ac))
					continue;
				v->n++;
			}
			free(ci);
		}
	}
	json_decref(f->channels);
	if (f->err) {
		acct_live_free(v);
		f->done(f->r, NULL, f->err, f->arg);
	} else {
		acct_note_tip(f->r, v->tip, v->now);
		f->done(f->r, v, NULL, f->arg);
	}
	free(f->err);
	free(f);
}

static bool live_error(struct live_fetch *f, const struct rpc_reply *reply)
{
	if (!reply->error)
		return false;
	if (!f->err)
		f->err = rpc_reply_errtext(reply);
	return true;
}

static void live_channels(struct rpc *rpc, const struct rpc_reply *reply,
			  void *arg)
{
	struct live_fetch *f = arg;

	if (!live_error(f, reply))
		f->channels = json_deep_copy(reply->result);
	live_step(f);
	(void)rpc;
}

static void live_info(struct rpc *rpc, const struct rpc_reply *reply, void *arg)
{
	struct live_fetch *f = arg;

	if (!live_error(f, reply))
		json_get_u32(reply->result, "blockheight", &f->v->tip);
	live_step(f);
	(void)rpc;
}

static void live_funds(struct rpc *rpc, const struct rpc_reply *reply,
		       void *arg)
{
	struct live_fetch *f = arg;
	size_t i;
	json_t *o;

	if (!live_error(f, reply)) {
		json_array_foreach(json_object_get(reply->result, "outputs"), i,
				   o)
		{
			const char *status = json_str(o, "status");
			uint64_t msat;
			if (status && !strcmp(status, "confirmed") &&
			    !json_is_true(json_object_get(o, "reserved")) &&
			    json_get_msat(o, "amount_msat", &msat))
				f->v->onchain_sat += msat / 1000;
		}
	}
	live_step(f);
	(void)rpc;
}

static void live_closed(struct rpc *rpc, const struct rpc_reply *reply,
			void *arg)
{
	struct live_fetch *f = arg;

	if (!live_error(f, reply))
		f->v->closed = json_deep_copy(reply->result);
	live_step(f);
	(void)rpc;
}

void acct_live_fetch(struct revenue *r, const char *parent_id, unsigned need,
		     void (*done)(struct revenue *r, struct acct_live *v,
				  const char *err, void *arg),
		     void *arg)
{
	struct live_fetch *f = xzalloc(sizeof(*f));
	struct rpc *rpc = plugin_rpc(r->plugin);

	f->r = r;
	f->need = need;
	f->done = done;
	f->arg = arg;
	f->v = xzalloc(sizeof(*f->v));
	f->v->now = now_sec(r);
	f->pending =
	    2 + !!(need & ACCT_LIVE_FUNDS) + !!(need & ACCT_LIVE_CLOSED);
	rpc_call(rpc, parent_id, "listpeerchannels", NULL, live_channels, f);
	rpc_call(rpc, parent_id, "getinfo", NULL, live_info, f);
	if (need & ACCT_LIVE_FUNDS)
		rpc_call(rpc, parent_id, "listfunds", NULL, live_funds, f);
	if (need & ACCT_LIVE_CLOSED)
		rpc_call(rpc, parent_id, "listclosedchannels", NULL,
			 live_closed, f);
}
