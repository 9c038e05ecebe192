/* listchannels and listnodes: the gossip view of one fleet node. Remote
 * channels show what their owners announced and senders currently see
 * (fee changes reach the gossip view after the simulated propagation
 * delay); the node's own channels show its own current policy, as
 * lightningd's local gossip modifications do. */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/util.h"
#include "sim/methods.h"
#include "sim/net.h"
#include <string.h>

/* Depth BOLT 7 requires before a channel is announced. */
#define ANNOUNCE_DEPTH 6

static uint32_t depth(const struct net *net, const struct net_channel *ch)
{
	return net_channel_mined(net, ch) ? net->height - ch->open_height + 1
					  : 0;
}

/* Whether the channel is in the public graph. */
static bool announced(const struct net *net, const struct net_channel *ch)
{
	if (ch->private_chan || depth(net, ch) < ANNOUNCE_DEPTH)
		return false;
	/* Gossip drops a channel once its funding output is spent. */
	switch (ch->cln_state) {
	case CLN_NORMAL:
	case CLN_SHUTTING_DOWN:
	case CLN_SIGEXCHANGE:
	case CLN_CLOSING_COMPLETE:
		return true;
	case CLN_NONE:
	case CLN_AWAITING_LOCKIN:
	case CLN_FUNDING_SPEND_SEEN:
	case CLN_ONCHAIN:
	case CLN_CLOSED:
		break;
	}
	return false;
}

/* Whether @me's gossip view lists @ch: public channels, and its own
 * channels from the moment they have an scid until they are spent. */
static bool visible(const struct net *net, const struct net_channel *ch,
		    uint32_t me)
{
	if (announced(net, ch))
		return true;
	if (net_channel_side(ch, me) < 0 || !net_channel_mined(net, ch))
		return false;
	return ch->cln_state == CLN_AWAITING_LOCKIN ||
	       ch->cln_state == CLN_NORMAL ||
	       ch->cln_state == CLN_SHUTTING_DOWN ||
	       ch->cln_state == CLN_SIGEXCHANGE ||
	       ch->cln_state == CLN_CLOSING_COMPLETE;
}

static json_t *half_json(const struct net *net, const struct net_channel *ch,
			 int d, uint32_t me)
{
	const struct chan_policy *p = &ch->pol[d];
	bool own = ch->node[d] == me;
	bool active = p->enabled && ch->cln_state == CLN_NORMAL &&
		      net->nodes[ch->node[0]].connected &&
		      net->nodes[ch->node[1]].connected;
	uint64_t last = own ? p->last_update_sec : p->seen_update_sec;

	return json_pack(
	    "{s:s,s:s,s:s,s:i,s:b,s:I,s:i,s:i,s:b,s:I,s:I,s:I,s:i,s:I,"
	    "s:I,s:s}",
	    "source", net->nodes[ch->node[d]].key.id_hex, "destination",
	    net->nodes[ch->node[1 - d]].key.id_hex, "short_channel_id",
	    ch->scid, "direction", d, "public", announced(net, ch),
	    "amount_msat", (json_int_t)(ch->capacity_sat * 1000),
	    /* must_be_one (htlc_maximum_msat is always present). */
	    "message_flags", 1, "channel_flags", d | (active ? 0 : 2), "active",
	    active, "last_update",
	    (json_int_t)(last > UINT32_MAX ? UINT32_MAX : last),
	    "base_fee_millisatoshi",
	    (json_int_t)(own ? p->base_msat : p->seen_base_msat),
	    "fee_per_millionth", (json_int_t)(own ? p->ppm : p->seen_ppm),
	    "delay", (int)p->cltv_delta, "htlc_minimum_msat",
	    (json_int_t)p->htlc_min_msat, "htlc_maximum_msat",
	    (json_int_t)p->htlc_max_msat, "features", "");
}

static void m_listchannels(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"short_channel_id", "source",
					    "destination", NULL};
	struct net *net = meth_net(req);
	uint32_t me = meth_self(req)->idx;
	const char *scid, *src, *dst;
	json_t *arr;

	if (!meth_check_names(req, params, names) ||
	    !meth_scid(req, params, 0, "short_channel_id", false, &scid) ||
	    !meth_pubkey(req, params, 1, "source", false, &src) ||
	    !meth_pubkey(req, params, 2, "destination", false, &dst))
		return;
	if (!!scid + !!src + !!dst > 1) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Can only specify one of {short_channel_id}, "
			     "{source} or {destination}");
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < net->nchans; i++) {
		const struct net_channel *ch = &net->chans[i];
		if (!visible(net, ch, me))
			continue;
		if (scid && strcmp(scid, ch->scid))
			continue;
		for (int d = 0; d < 2; d++) {
			if (src &&
			    strcasecmp(src, net->nodes[ch->node[d]].key.id_hex))
				continue;
			if (dst &&
			    strcasecmp(dst,
				       net->nodes[ch->node[1 - d]].key.id_hex))
				continue;
			json_array_append_new(arr, half_json(net, ch, d, me));
		}
	}
	lnd_req_ok(req, json_pack("{s:o}", "channels", arr));
}

static void m_listnodes(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id", NULL};
	struct net *net = meth_net(req);
	uint32_t me = meth_self(req)->idx;
	const char *id;
	json_t *arr;

	if (!meth_check_names(req, params, names) ||
	    !meth_pubkey(req, params, 0, "id", false, &id))
		return;
	arr = json_array();
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		uint64_t first = UINT64_MAX;
		bool known = false;
		if (id && strcasecmp(id, n->key.id_hex))
			continue;
		/* A node is in the graph through its channels; it has an
		 * announcement once one of them is public. */
		for (size_t k = 0; k < n->nchans; k++) {
			const struct net_channel *ch = &net->chans[n->chans[k]];
			known |= visible(net, ch, me);
			if (announced(net, ch) && ch->opened_sec < first)
				first = ch->opened_sec;
		}
		if (!known)
			continue;
		if (first == UINT64_MAX) {
			json_array_append_new(
			    arr, json_pack("{s:s}", "nodeid", n->key.id_hex));
			continue;
		}
		json_array_append_new(
		    arr,
		    json_pack(
			"{s:s,s:I,s:s,s:s,s:s,s:[{s:s,s:s,s:i}]}", "nodeid",
			n->key.id_hex, "last_timestamp",
			(json_int_t)(first > UINT32_MAX ? UINT32_MAX : first),
			"alias", n->alias, "color", n->color, "features",
			"88a0000a8a5961", "addresses", "type", "ipv4",
			"address", "127.0.0.1", "port", (int)(9735 + n->idx)));
	}
	lnd_req_ok(req, json_pack("{s:o}", "nodes", arr));
}

const struct lnd_method meth_gossip[] = {
    {"listchannels", m_listchannels,
     "[short_channel_id] [source] [destination]",
     "Show channels in the gossip view."},
    {"listnodes", m_listnodes, "[id]", "Show nodes in the gossip view."},
};
const size_t meth_gossip_n = ARRAY_SIZE(meth_gossip);
