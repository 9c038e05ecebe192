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
#include "common/u64map.h"
#include "sim/ledger.h"
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
	/* Timestamp of the update senders currently see (listchannels'
	 * last_update lags like the fees do). */
	uint64_t seen_update_sec;
	/* The policy before the last change: CLN keeps accepting it for
	 * `setchannel`'s enforcedelay after @last_update_sec, so senders
	 * with stale gossip are not failed at once. */
	uint64_t prev_base_msat;
	uint32_t prev_ppm;
	bool has_prev;
};

/* The finer channel state Core Lightning shows (listpeerchannels, the
 * channel_state_changed notification); chan_state above is the coarse
 * one routing needs. Order is the order a channel goes through. */
enum cln_state {
	CLN_NONE,		/* not yet existing (old_state of the first) */
	CLN_AWAITING_LOCKIN,	/* CHANNELD_AWAITING_LOCKIN */
	CLN_NORMAL,		/* CHANNELD_NORMAL */
	CLN_SHUTTING_DOWN,	/* CHANNELD_SHUTTING_DOWN */
	CLN_SIGEXCHANGE,	/* CLOSINGD_SIGEXCHANGE */
	CLN_CLOSING_COMPLETE,	/* CLOSINGD_COMPLETE */
	CLN_FUNDING_SPEND_SEEN, /* FUNDING_SPEND_SEEN */
	CLN_ONCHAIN,		/* ONCHAIN */
	CLN_CLOSED,		/* forgotten: only in listclosedchannels */
};

/* Why a state changed, as CLN's state_change cause ("user" is the
 * command's caller, "remote" the peer, "onchain" the chain). */
enum chan_cause {
	CAUSE_UNKNOWN,
	CAUSE_LOCAL,
	CAUSE_USER,
	CAUSE_REMOTE,
	CAUSE_PROTOCOL,
	CAUSE_ONCHAIN,
};

struct chan_change {
	uint64_t at_ms;
	enum cln_state old_state, new_state;
	/* Side whose node caused it (user/local on that side read as
	 * "remote" from the other side), or -1. */
	int by_side;
	enum chan_cause cause;
	const char *message;	  /* static text, may be NULL */
	const char *peer_message; /* as the other side sees it (NULL: same) */
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
	/* msat those HTLCs hold (still counted in balance_msat[d] until they
	 * settle; spendable = balance - reserve - htlc_out). */
	uint64_t htlc_out_msat[2];
	int opener;		/* 0 or 1 */
	enum chan_state state;
	uint32_t open_height;	/* block of the funding confirmation */
	uint64_t opened_sec;
	uint64_t closed_sec;
	uint32_t close_height;	/* for CLOSING: confirms at this height */
	bool private_chan;
	/* Opens and closes made during the run (sim/chain.c). */
	enum cln_state cln_state;
	struct chan_change *changes; /* history, owned */
	size_t nchanges, capchanges;
	uint32_t funding_confirms; /* lockin depth (mindepth) */
	uint64_t push_msat;
	uint64_t funding_fee_sat;  /* paid by the opener */
	int closer;		   /* side that closed, or -1 */
	enum chan_cause close_cause;
	char close_txid[65];
	uint64_t close_fee_sat;
	uint32_t forget_height;	   /* ONCHAIN until this height */
	/* Smallest and largest balance side d ever had (closed records). */
	uint64_t min_msat[2], max_msat[2];
	/* Per-side counters for reports. */
	uint64_t in_fulfilled_msat[2], out_fulfilled_msat[2];
	uint32_t in_payments_offered[2], in_payments_fulfilled[2];
	uint32_t out_payments_offered[2], out_payments_fulfilled[2];
	uint64_t in_offered_msat[2], out_offered_msat[2];
	/* Fees node[d] earned forwarding out over this channel. */
	uint64_t fee_out_msat[2];
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
	uint64_t forwarded_msat; /* outgoing amount of settled forwards */
	uint64_t fee_updates;
	bool connected; /* fleet nodes: peers see it online */
	/* Channels generation should open for this fleet node; -1: the
	 * generate object's fleet_channels. */
	int64_t gen_channels;
	/* Forwards through this node (kept for fleet nodes only). */
	struct fwdlog fwds;
	/* Wallet outputs, invoices, payments sent, extra peers. */
	struct ledger led;
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
	/* Mempool feerate now (perkw, the 6-block estimate) and its
	 * smoothed value (moves 1/8 of the way per block, as fee
	 * estimators smooth); scripted by the scenario's "chain". */
	uint32_t feerate_perkw;
	uint32_t feerate_smoothed_perkw;
	uint32_t funding_confirms;   /* default mindepth */
	uint32_t onchain_forget_blocks; /* ONCHAIN -> closed after */
	/* Earliest pending gossip_at_sec (UINT64_MAX: none), so
	 * net_apply_gossip costs nothing between policy changes. */
	uint64_t next_gossip_sec;
	/* Channels funded per block height, for unique scids. */
	struct u64map *txs_per_height;
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

/* Peers of @node: channel peers (channels not closed) and peers connected
 * without a channel, each once, in a stable order. Caller frees. */
uint32_t *net_node_peers(const struct net *net, uint32_t node, size_t *n);

/* How long a channel_update takes to reach senders, drawn from @r:
 * log-normal, median 300 s, sigma 0.5, capped at 2,500 s. */
struct rng;
uint64_t net_gossip_delay_sec(struct rng *r);

/* Make due gossip visible to senders (call as time advances; cheap when
 * nothing is due). */
void net_apply_gossip(struct net *net);

/* Record a state change of @ch (history + cln_state + the coarse state
 * routing uses). CAUSE_UNKNOWN keeps the previous change's cause, as
 * lightningd does. Returns the new history entry (valid until the next
 * change of @ch). */
struct chan_change *net_channel_change(struct net *net,
					     struct net_channel *ch,
					     enum cln_state new_state,
					     int by_side,
					     enum chan_cause cause,
					     const char *message);
/* CLN's name of a state ("CHANNELD_NORMAL", ...) and of a cause. */
const char *cln_state_name(enum cln_state s);
const char *chan_cause_name(enum chan_cause c);
/* Whether @ch has a funding tx in a block (its scid is real yet). */
bool net_channel_mined(const struct net *net, const struct net_channel *ch);

#endif
