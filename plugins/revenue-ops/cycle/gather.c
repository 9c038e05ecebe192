/* Fetching the node view from lightningd; see gather.h. */
#include "plugins/revenue-ops/cycle/gather.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

struct gather {
	struct revenue *r;
	void (*done)(struct revenue *r, struct node_view *v, const char *err,
		     void *arg);
	void *arg;
	struct node_view *v;
	int pending;
	char *err;
};

static void gather_step(struct gather *g)
{
	if (--g->pending)
		return;
	if (g->err) {
		node_view_free(g->v);
		g->done(g->r, NULL, g->err, g->arg);
	} else {
		g->done(g->r, g->v, NULL, g->arg);
	}
	free(g->err);
	free(g);
}

static bool note_error(struct gather *g, const struct rpc_reply *reply)
{
	if (!reply->error)
		return false;
	if (!g->err)
		g->err = rpc_reply_errtext(reply);
	return true;
}

static void got_channels(struct rpc *rpc, const struct rpc_reply *reply,
			 void *arg)
{
	struct gather *g = arg;
	char *err = NULL;

	if (!note_error(g, reply) &&
	    !node_parse_peerchannels(reply->result, &g->v->chans,
				       &g->v->nchans, &g->v->skipped, &err))
		g->err = err;
	gather_step(g);
	(void)rpc;
}

static void got_info(struct rpc *rpc, const struct rpc_reply *reply,
		     void *arg)
{
	struct gather *g = arg;
	uint32_t h;

	if (!note_error(g, reply)) {
		if (json_get_u32(reply->result, "blockheight", &h))
			g->v->blockheight = h;
		copy_str(g->v->our_id, sizeof(g->v->our_id),
			 json_str(reply->result, "id"));
	}
	gather_step(g);
	(void)rpc;
}

/* Feerates are advisory: a node without an estimate (regtest, a fresh
 * bitcoind) still runs, with the economic floor's defaults. */
static void got_feerates(struct rpc *rpc, const struct rpc_reply *reply,
			 void *arg)
{
	struct gather *g = arg;
	const json_t *kb = json_object_get(reply->result, "perkb");

	if (kb) {
		json_get_u64(kb, "opening", &g->v->opening_perkb);
		json_get_u64(kb, "mutual_close", &g->v->mutual_close_perkb);
		json_get_u64(kb, "unilateral_close",
			     &g->v->unilateral_close_perkb);
		json_get_u64(kb, "floor", &g->v->floor_perkb);
	}
	gather_step(g);
	(void)rpc;
}

static void got_funds(struct rpc *rpc, const struct rpc_reply *reply,
		      void *arg)
{
	struct gather *g = arg;
	const json_t *outs = json_object_get(reply->result, "outputs");
	size_t i;
	json_t *o;

	json_array_foreach(outs, i, o) {
		const char *status = json_str(o, "status");
		uint64_t msat;
		if (status && !strcmp(status, "confirmed") &&
		    !json_is_true(json_object_get(o, "reserved")) &&
		    json_get_msat(o, "amount_msat", &msat))
			g->v->onchain_sat += msat / 1000;
	}
	gather_step(g);
	(void)rpc;
}

/* Only what node_parse_peerchannels reads: on a node with thousands of
 * channels the full answer is megabytes, produced and parsed three times
 * an hour. */
static json_t *channels_filter(void)
{
	return json_pack(
			"{s:[{s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,"
			"s:b,s:b,s:{s:{s:b,s:b}},s:[{s:b}]}]}",
			"channels", "short_channel_id", 1, "peer_id", 1,
			"channel_id", 1, "state", 1, "opener", 1,
			"peer_connected", 1, "total_msat", 1, "to_us_msat", 1,
			"spendable_msat", 1, "fee_base_msat", 1,
			"fee_proportional_millionths", 1,
			"our_max_htlc_value_in_flight_msat", 1,
			"max_accepted_htlcs", 1, "updates", "local",
			"fee_base_msat", 1, "fee_proportional_millionths", 1,
			"htlcs", "amount_msat", 1);
}

/* Only the wallet's outputs, and of them what got_funds reads: listfunds
 * also lists every channel, most of its answer on a big node. */
static json_t *funds_filter(void)
{
	return json_pack("{s:[{s:b,s:b,s:b}]}", "outputs", "status", 1,
			 "reserved", 1, "amount_msat", 1);
}

void gather_node(struct revenue *r, const char *parent_id,
		 void (*done)(struct revenue *r, struct node_view *v,
			      const char *err, void *arg),
		 void *arg)
{
	struct gather *g = xzalloc(sizeof(*g));
	struct rpc *rpc = plugin_rpc(r->plugin);

	g->r = r;
	g->done = done;
	g->arg = arg;
	g->v = xzalloc(sizeof(*g->v));
	g->pending = 4;
	json_t *filter = channels_filter();
	rpc_call_filtered(rpc, parent_id, "listpeerchannels", NULL, filter,
			  got_channels, g);
	json_decref(filter);
	rpc_call(rpc, parent_id, "getinfo", NULL, got_info, g);
	rpc_call(rpc, parent_id, "feerates",
		 json_pack("{s:s}", "style", "perkb"), got_feerates, g);
	filter = funds_filter();
	rpc_call_filtered(rpc, parent_id, "listfunds", NULL, filter, got_funds,
			  g);
	json_decref(filter);
}
