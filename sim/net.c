/* Network state and bookkeeping; see net.h. */
#include "sim/net.h"
#include "common/util.h"
#include "common/wire.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

struct net *net_new(uint64_t seed, uint64_t start_sec, uint32_t start_height)
{
	struct net *net = xzalloc(sizeof(*net));
	net->seed = seed;
	net->now_sec = net->start_sec = start_sec;
	net->height = net->start_height = start_height;
	strcpy(net->network, "regtest");
	return net;
}

void net_free(struct net *net)
{
	if (!net)
		return;
	for (size_t i = 0; i < net->nnodes; i++) {
		free(net->nodes[i].chans);
		fwdlog_free(&net->nodes[i].fwds);
	}
	free(net->nodes);
	free(net->chans);
	free(net);
}

struct net_node *net_add_node(struct net *net, const char *alias, bool fleet)
{
	struct net_node *n;

	xgrow(&net->nodes, &net->capnodes, net->nnodes + 1,
	      sizeof(*net->nodes));
	n = &net->nodes[net->nnodes];
	memset(n, 0, sizeof(*n));
	n->idx = (uint32_t)net->nnodes++;
	snprintf(n->alias, sizeof(n->alias), "%s", alias);
	n->fleet = fleet;
	n->connected = true;
	fwdlog_init(&n->fwds);
	node_key_derive(&n->key, net->seed, n->idx);
	snprintf(n->color, sizeof(n->color), "%02x%02x%02x", n->key.pubkey[1],
		 n->key.pubkey[2], n->key.pubkey[3]);
	return n;
}

struct net_node *net_node_by_alias(struct net *net, const char *alias)
{
	for (size_t i = 0; i < net->nnodes; i++)
		if (!strcmp(net->nodes[i].alias, alias))
			return &net->nodes[i];
	return NULL;
}

struct net_node *net_node_by_id(struct net *net, const char *id_hex)
{
	for (size_t i = 0; i < net->nnodes; i++)
		if (!strcasecmp(net->nodes[i].key.id_hex, id_hex))
			return &net->nodes[i];
	return NULL;
}

static void add_node_chan(struct net_node *n, uint32_t ci)
{
	xgrow(&n->chans, &n->capchans, n->nchans + 1, sizeof(*n->chans));
	n->chans[n->nchans++] = ci;
}

struct net_channel *net_add_channel(struct net *net, uint32_t a, uint32_t b,
				    uint64_t capacity_sat,
				    uint64_t a_balance_msat,
				    uint32_t opener_node, uint32_t height,
				    char **err)
{
	struct net_channel *ch;
	uint64_t cap_msat = capacity_sat * 1000;
	uint8_t txid[32], buf[24];
	char *hex;
	int sa;
	uint32_t txidx = 1;

	*err = NULL;
	if (a == b || a >= net->nnodes || b >= net->nnodes) {
		*err = xstrdup("channel endpoints must be two different "
			       "known nodes");
		return NULL;
	}
	if (capacity_sat == 0 || capacity_sat > 2100000000000000ULL) {
		*err = xstrdup("capacity must be positive and below 21M BTC");
		return NULL;
	}
	if (a_balance_msat > cap_msat) {
		*err = xfmt("balance %llu msat exceeds the capacity of %llu "
			    "sat",
			    (unsigned long long)a_balance_msat,
			    (unsigned long long)capacity_sat);
		return NULL;
	}
	for (size_t i = 0; i < net->nchans; i++) {
		uint32_t blk;
		if (sscanf(net->chans[i].scid, "%ux", &blk) == 1 &&
		    blk == height)
			txidx++;
	}

	xgrow(&net->chans, &net->capchans, net->nchans + 1,
	      sizeof(*net->chans));
	ch = &net->chans[net->nchans];
	memset(ch, 0, sizeof(*ch));
	ch->idx = (uint32_t)net->nchans++;
	/* Side 0 is the lesser node id, as in gossip. */
	sa = strcmp(net->nodes[a].key.id_hex, net->nodes[b].key.id_hex) < 0 ? 0
									    : 1;
	ch->node[sa] = a;
	ch->node[1 - sa] = b;
	ch->capacity_sat = capacity_sat;
	ch->balance_msat[sa] = a_balance_msat;
	ch->balance_msat[1 - sa] = cap_msat - a_balance_msat;
	ch->opener = opener_node == a ? sa : 1 - sa;
	ch->state = CHAN_NORMAL;
	ch->open_height = height;
	ch->opened_sec = net->now_sec;
	snprintf(ch->scid, sizeof(ch->scid), "%ux%ux0", height, txidx);
	memcpy(buf, "hive-sim-funding", 16);
	for (int i = 0; i < 8; i++)
		buf[16 + i] = (uint8_t)((net->seed ^ ch->idx) >> (8 * i));
	crypto_hash_sha256(txid, buf, sizeof(buf));
	hex = hex_encode(txid, 32);
	memcpy(ch->funding_txid, hex, 65);
	free(hex);
	ch->funding_outnum = 0;
	/* BOLT 2: channel_id = funding txid (internal byte order) XOR the
	 * output index in its last two bytes; outnum 0 leaves it as is. */
	for (int i = 0; i < 16; i++) {
		uint8_t t = txid[i];
		txid[i] = txid[31 - i];
		txid[31 - i] = t;
	}
	hex = hex_encode(txid, 32);
	memcpy(ch->channel_id, hex, 65);
	free(hex);
	for (int d = 0; d < 2; d++) {
		ch->pol[d] = (struct chan_policy){
			.base_msat = 1000,
			.ppm = 10,
			.htlc_min_msat = 1,
			.htlc_max_msat = cap_msat,
			.cltv_delta = 34,
			.enabled = true,
			.last_update_sec = net->now_sec,
		};
		ch->pol[d].seen_base_msat = ch->pol[d].base_msat;
		ch->pol[d].seen_ppm = ch->pol[d].ppm;
		ch->max_htlcs[d] = 30;
	}
	add_node_chan(&net->nodes[a], ch->idx);
	add_node_chan(&net->nodes[b], ch->idx);
	return ch;
}

struct net_channel *net_channel_by_scid(struct net *net, const char *scid)
{
	for (size_t i = 0; i < net->nchans; i++)
		if (!strcmp(net->chans[i].scid, scid))
			return &net->chans[i];
	return NULL;
}

int net_channel_side(const struct net_channel *ch, uint32_t node)
{
	if (ch->node[0] == node)
		return 0;
	if (ch->node[1] == node)
		return 1;
	return -1;
}

uint32_t net_channel_peer(const struct net_channel *ch, uint32_t node)
{
	return ch->node[0] == node ? ch->node[1] : ch->node[0];
}

bool net_set_policy(struct net *net, struct net_channel *ch, int side,
		    uint64_t base_msat, uint32_t ppm, uint64_t htlc_min_msat,
		    uint64_t htlc_max_msat, uint64_t gossip_at_sec)
{
	struct chan_policy *p = &ch->pol[side];
	bool changed = p->base_msat != base_msat || p->ppm != ppm ||
		       p->htlc_min_msat != htlc_min_msat ||
		       p->htlc_max_msat != htlc_max_msat;

	if (!changed)
		return false;
	p->base_msat = base_msat;
	p->ppm = ppm;
	p->htlc_min_msat = htlc_min_msat;
	p->htlc_max_msat = htlc_max_msat;
	p->last_update_sec = net->now_sec;
	p->pending_base_msat = base_msat;
	p->pending_ppm = ppm;
	p->gossip_at_sec = gossip_at_sec;
	if (gossip_at_sec <= net->now_sec) {
		p->seen_base_msat = base_msat;
		p->seen_ppm = ppm;
	}
	return true;
}

void net_apply_gossip(struct net *net)
{
	for (size_t i = 0; i < net->nchans; i++) {
		for (int d = 0; d < 2; d++) {
			struct chan_policy *p = &net->chans[i].pol[d];
			if (p->gossip_at_sec && p->gossip_at_sec <= net->now_sec) {
				p->seen_base_msat = p->pending_base_msat;
				p->seen_ppm = p->pending_ppm;
				p->gossip_at_sec = 0;
			}
		}
	}
}
