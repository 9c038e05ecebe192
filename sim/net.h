/* The simulated Lightning network: nodes, channels with a balance per side
 * and a fee policy per direction, the block height, and on-chain wallets of
 * fleet nodes. Pure state and bookkeeping; the fake lightningd reads it to
 * answer RPCs and the payment engine moves balances through it.
 *
 * Direction d of a channel is the policy of the node on side d for HTLCs it
 * forwards out to the other side (as in CLN's listchannels: direction 0 is
 * from the node with the lexically lesser node id). */
#ifndef HIVE_SIM_NET_H
#define HIVE_SIM_NET_H
#include "sim/fwdlog.h"
#include "sim/keys.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum chan_state {
	CHAN_OPENING,	/* funding tx not yet deep enough */
	CHAN_NORMAL,
	CHAN_CLOSING,	/* close requested, tx not yet confirmed */
	CHAN_CLOSED,
};

struct chan_policy {
	uint64_t base_msat;
	uint32_t ppm;
	uint64_t htlc_min_msat;
	uint64_t htlc_max_msat;
	uint16_t cltv_delta;
	bool enabled;
	uint64_t last_update_sec; /* timestamp of the last real change */
	/* What senders currently believe (gossip lags the node's own view):
	 * the announced policy takes effect for senders at @gossip_at_sec. */
	uint64_t seen_base_msat;
	uint32_t seen_ppm;
	uint64_t gossip_at_sec;
	uint64_t pending_base_msat;
	uint32_t pending_ppm;
};

struct net_channel {
	uint32_t idx;
	char scid[32];
	char channel_id[65];	/* hex of 32 bytes */
	char funding_txid[65];
	uint32_t funding_outnum;
	uint32_t node[2];	/* node indices; node[0] id < node[1] id */
	uint64_t capacity_sat;
	uint64_t balance_msat[2]; /* spendable-by side d (ignoring reserve) */
	struct chan_policy pol[2];
	uint16_t max_htlcs[2];	/* max_accepted_htlcs of side d */
	uint16_t htlcs_out[2];	/* HTLCs in flight offered by side d */
	int opener;		/* 0 or 1 */
	enum chan_state state;
	uint32_t open_height;	/* block of the funding confirmation */
	uint64_t opened_sec;
	uint64_t closed_sec;
	uint32_t close_height;	/* for CLOSING: confirms at this height */
	bool private_chan;
	/* Per-side counters for reports. */
	uint64_t in_fulfilled_msat[2], out_fulfilled_msat[2];
	uint32_t in_payments_offered[2], in_payments_fulfilled[2];
	uint32_t out_payments_offered[2], out_payments_fulfilled[2];
};

struct net_node {
	uint32_t idx;
	char alias[33];
	struct node_key key;
	bool fleet;
	char color[7];
	/* External nodes' traffic roles. */
	double send_weight, recv_weight;
	/* Indices into net->chans of this node's channels (any state). */
	uint32_t *chans;
	size_t nchans, capchans;
	/* On-chain wallet (fleet nodes). */
	uint64_t onchain_sat;
	/* Accounting for the report. */
	uint64_t fees_earned_msat;
	uint64_t rebalance_fees_paid_msat;
	uint64_t onchain_fees_paid_sat;
	uint64_t forwards_settled, forwards_failed, forwards_local_failed;
	uint64_t fee_updates;
	bool connected; /* fleet nodes: peers see it online */
	/* Forwards through this node (kept for fleet nodes only). */
	struct fwdlog fwds;
};

struct net {
	struct net_node *nodes;
	size_t nnodes, capnodes;
	struct net_channel *chans;
	size_t nchans, capchans;
	uint32_t height;
	uint64_t now_sec;
	uint64_t start_sec;
	uint32_t start_height;
	uint64_t seed;
	char network[16]; /* "regtest" */
};

struct net *net_new(uint64_t seed, uint64_t start_sec, uint32_t start_height);
void net_free(struct net *net);

/* Add a node with a key derived from the net seed and its index. */
struct net_node *net_add_node(struct net *net, const char *alias, bool fleet);
struct net_node *net_node_by_alias(struct net *net, const char *alias);
struct net_node *net_node_by_id(struct net *net, const char *id_hex);

/* Add a channel between nodes @a and @b (indices) funded by @opener_node
 * with @a_balance_msat on @a's side. Assigns a unique scid at @height.
 * Returns NULL with *err on impossible balances. */
struct net_channel *net_add_channel(struct net *net, uint32_t a, uint32_t b,
				    uint64_t capacity_sat,
				    uint64_t a_balance_msat,
				    uint32_t opener_node, uint32_t height,
				    char **err);
struct net_channel *net_channel_by_scid(struct net *net, const char *scid);
/* Side (0/1) of @node in @ch, or -1. */
int net_channel_side(const struct net_channel *ch, uint32_t node);
/* The peer node index across @ch from @node. */
uint32_t net_channel_peer(const struct net_channel *ch, uint32_t node);

/* Set a policy as its node does (setchannel): takes effect for forwarding
 * at once; senders see it from @gossip_at_sec. Returns true if anything
 * changed. */
bool net_set_policy(struct net *net, struct net_channel *ch, int side,
		    uint64_t base_msat, uint32_t ppm, uint64_t htlc_min_msat,
		    uint64_t htlc_max_msat, uint64_t gossip_at_sec);

/* Make due gossip visible to senders (call as time advances). */
void net_apply_gossip(struct net *net);

#endif
