/* Network state and bookkeeping; see net.h. */
#include "sim/net.h"
#include "common/rng.h"
#include "common/util.h"
#include "common/wire.h"
#include <math.h>
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
	/* 2500 perkw is 10 sat/vB, a calm mempool. */
	net->feerate_perkw = net->feerate_smoothed_perkw = 2500;
	/* lightningd's default funding-confirms, and onchaind's 100 blocks
	 * before a closed channel is forgotten. */
	net->funding_confirms = 3;
	net->onchain_forget_blocks = 100;
	net->next_gossip_sec = UINT64_MAX;
	net->txs_per_height = u64map_new();
	return net;
}

void net_free(struct net *net)
{
	if (!net)
		return;
	for (size_t i = 0; i < net->nnodes; i++) {
		free(net->nodes[i].chans);
		fwdlog_free(&net->nodes[i].fwds);
		ledger_free(&net->nodes[i].led);
	}
	for (size_t i = 0; i < net->nchans; i++)
		free(net->chans[i].changes);
	free(net->nodes);
	free(net->chans);
	u64map_free(net->txs_per_height);
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
	n->gen_channels = -1;
	fwdlog_init(&n->fwds);
	ledger_init(&n->led);
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
	uint32_t txidx;
	uintptr_t ntx;

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
	/* A map rather than a scan: generated networks add thousands of
	 * channels. Values are counts stored as non-NULL pointers. */
	ntx = (uintptr_t)u64map_get(net->txs_per_height, height);
	txidx = (uint32_t)(ntx ? ntx : 1);
	u64map_put(net->txs_per_height, height, (void *)(ntx ? ntx + 1 : 2));

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
	ch->cln_state = CLN_NORMAL;
	ch->closer = -1;
	ch->funding_confirms = net->funding_confirms;
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
		ch->pol[d].seen_update_sec = net->now_sec;
		ch->max_htlcs[d] = 30;
		ch->min_msat[d] = ch->max_msat[d] = ch->balance_msat[d];
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
	/* Like lightningd, the grace period keeps the previous *fee* valid:
	 * a change of HTLC limits alone does not touch it. */
	if (p->base_msat != base_msat || p->ppm != ppm) {
		p->prev_base_msat = p->base_msat;
		p->prev_ppm = p->ppm;
		p->has_prev = true;
	}
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
		p->gossip_at_sec = 0;
	} else if (gossip_at_sec < net->next_gossip_sec) {
		net->next_gossip_sec = gossip_at_sec;
	}
	return true;
}

/* The 2022 measurements: mean 360 s, 95 % of nodes by 753 s, all by
 * 2,500 s (Goegge, Rohrer, Tschorsch, arXiv 2205.12737). */
uint64_t net_gossip_delay_sec(struct rng *r)
{
	double d = rng_lognormal(r, log(300.0), 0.5);
	return d > 2500.0 ? 2500 : (uint64_t)d;
}

void net_apply_gossip(struct net *net)
{
	uint64_t next = UINT64_MAX;

	if (net->now_sec < net->next_gossip_sec)
		return;
	for (size_t i = 0; i < net->nchans; i++) {
		for (int d = 0; d < 2; d++) {
			struct chan_policy *p = &net->chans[i].pol[d];
			if (!p->gossip_at_sec)
				continue;
			if (p->gossip_at_sec <= net->now_sec) {
				p->seen_base_msat = p->pending_base_msat;
				p->seen_ppm = p->pending_ppm;
				p->seen_update_sec = p->last_update_sec;
				p->gossip_at_sec = 0;
			} else if (p->gossip_at_sec < next) {
				next = p->gossip_at_sec;
			}
		}
	}
	net->next_gossip_sec = next;
}

struct chan_change *net_channel_change(struct net *net,
					     struct net_channel *ch,
					     enum cln_state new_state,
					     int by_side,
					     enum chan_cause cause,
					     const char *message)
{
	struct chan_change *c;

	xgrow(&ch->changes, &ch->capchanges, ch->nchanges + 1,
	      sizeof(*ch->changes));
	if (cause == CAUSE_UNKNOWN && ch->nchanges > 0) {
		cause = ch->changes[ch->nchanges - 1].cause;
		by_side = ch->changes[ch->nchanges - 1].by_side;
	}
	c = &ch->changes[ch->nchanges++];
	*c = (struct chan_change){.at_ms = net->now_sec * 1000,
				  .old_state = ch->cln_state,
				  .new_state = new_state,
				  .by_side = by_side,
				  .cause = cause,
				  .message = message};
	ch->cln_state = new_state;
	/* Routing only cares whether HTLCs may use the channel. */
	switch (new_state) {
	case CLN_NONE:
	case CLN_AWAITING_LOCKIN:
		ch->state = CHAN_OPENING;
		break;
	case CLN_NORMAL:
		ch->state = CHAN_NORMAL;
		break;
	case CLN_SHUTTING_DOWN:
	case CLN_SIGEXCHANGE:
	case CLN_CLOSING_COMPLETE:
		ch->state = CHAN_CLOSING;
		break;
	case CLN_FUNDING_SPEND_SEEN:
	case CLN_ONCHAIN:
	case CLN_CLOSED:
		ch->state = CHAN_CLOSED;
		break;
	}
	return c;
}

const char *cln_state_name(enum cln_state s)
{
	switch (s) {
	case CLN_NONE:
		return "OPENINGD";
	case CLN_AWAITING_LOCKIN:
		return "CHANNELD_AWAITING_LOCKIN";
	case CLN_NORMAL:
		return "CHANNELD_NORMAL";
	case CLN_SHUTTING_DOWN:
		return "CHANNELD_SHUTTING_DOWN";
	case CLN_SIGEXCHANGE:
		return "CLOSINGD_SIGEXCHANGE";
	case CLN_CLOSING_COMPLETE:
		return "CLOSINGD_COMPLETE";
	case CLN_FUNDING_SPEND_SEEN:
		return "FUNDING_SPEND_SEEN";
	case CLN_ONCHAIN:
		return "ONCHAIN";
	case CLN_CLOSED:
		return "CLOSED";
	}
	return "CHANNELD_NORMAL";
}

const char *chan_cause_name(enum chan_cause c)
{
	switch (c) {
	case CAUSE_UNKNOWN:
		return "unknown";
	case CAUSE_LOCAL:
		return "local";
	case CAUSE_USER:
		return "user";
	case CAUSE_REMOTE:
		return "remote";
	case CAUSE_PROTOCOL:
		return "protocol";
	case CAUSE_ONCHAIN:
		return "onchain";
	}
	return "unknown";
}

bool net_channel_mined(const struct net *net, const struct net_channel *ch)
{
	return ch->cln_state != CLN_NONE && net->height >= ch->open_height;
}

uint32_t *net_node_peers(const struct net *net, uint32_t node, size_t *n)
{
	const struct net_node *me = &net->nodes[node];
	size_t total = me->nchans + me->led.npeers;
	uint32_t *v = xzalloc(sizeof(*v) * (total + 1));
	/* A mark per node keeps this linear: a node with thousands of
	 * channels is asked for its peers on every getinfo. */
	uint8_t *seen = xzalloc(net->nnodes + 1);

	*n = 0;
	for (size_t i = 0; i < total; i++) {
		uint32_t p;
		if (i < me->nchans) {
			const struct net_channel *ch = &net->chans[me->chans[i]];
			if (ch->cln_state == CLN_CLOSED)
				continue;
			p = net_channel_peer(ch, node);
		} else {
			p = me->led.peers[i - me->nchans];
		}
		if (p >= net->nnodes || seen[p])
			continue;
		seen[p] = 1;
		v[(*n)++] = p;
	}
	free(seen);
	return v;
}
