/* The simulated chain as lightningd sees it: fee estimates derived from the
 * mempool feerate in struct net, channel funding from a node's on-chain
 * wallet, mutual closes, and what each new block confirms. Pure state
 * changes on struct net; whoever calls these tells the nodes (sim/sim.c
 * sends the notifications).
 *
 * Timeline of an open: the funding tx is broadcast at height H and mined
 * at H+1 (the scid is real from then on); the channel is
 * CHANNELD_AWAITING_LOCKIN until the funding tx is `funding_confirms` deep,
 * then CHANNELD_NORMAL. A close: CHANNELD_SHUTTING_DOWN until no HTLC is
 * in flight, CLOSINGD_SIGEXCHANGE, CLOSINGD_COMPLETE with the closing tx
 * broadcast; mined at the next block (FUNDING_SPEND_SEEN, ONCHAIN, outputs
 * credited to the wallets), forgotten `onchain_forget_blocks` later
 * (listclosedchannels). */
#ifndef HIVE_SIM_CHAIN_H
#define HIVE_SIM_CHAIN_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net;
struct net_channel;
struct chan_change;

/* lightningd's absolute minimum (1 sat/vB). */
#define CHAIN_FEERATE_FLOOR_PERKW 253
/* Weights lightningd uses for its on-chain fee estimates. */
#define CHAIN_FUNDING_WEIGHT 702
#define CHAIN_EXTRA_INPUT_WEIGHT 272
#define CHAIN_MUTUAL_CLOSE_WEIGHT 673
#define CHAIN_UNILATERAL_WEIGHT 1112
#define CHAIN_UNILATERAL_NONANCHOR_WEIGHT 598
#define CHAIN_DUST_SAT 546

/* Estimate (perkw) to confirm within @blocks, from the current or the
 * smoothed mempool feerate. */
uint32_t chain_estimate_perkw(const struct net *net, uint32_t blocks,
			      bool smoothed);

/* lightningd's named rates (feerates' fields and `feerate` params). */
enum chain_rate {
	RATE_OPENING,
	RATE_MUTUAL_CLOSE,
	RATE_UNILATERAL,
	RATE_UNILATERAL_ANCHOR,
	RATE_PENALTY,
	RATE_SPLICE,
	RATE_MIN_ACCEPTABLE,
	RATE_MAX_ACCEPTABLE,
	RATE_URGENT,
	RATE_NORMAL,
	RATE_SLOW,
};
uint32_t chain_rate_perkw(const struct net *net, enum chain_rate r);

/* A `feerate` parameter: a name ("urgent", "normal", "slow", "minimum",
 * "opening", ...), a number with an optional "perkw"/"perkb" suffix
 * (none means perkb), or an integer (perkb). False if unparseable. */
bool chain_parse_feerate(const struct net *net, const json_t *v,
			 uint32_t *perkw);

/* Fee in sat of @weight at @perkw. */
uint64_t chain_fee_sat(uint32_t perkw, uint64_t weight);

/* A 32-byte id (hex, 65 bytes with NUL) derived from @tag and @n, for
 * txids and block hashes that stay the same from run to run. */
void chain_hash_hex(const struct net *net, const char *tag, uint64_t n,
		    char out[65]);

struct fund_req {
	uint32_t node, peer;
	uint64_t amount_sat; /* ignored when @all */
	bool all;
	uint64_t push_msat;
	uint32_t feerate_perkw;
	bool announce;
	uint32_t mindepth;
};

enum fund_err {
	FUND_OK,
	FUND_ERR_PARAM,	 /* JSON-RPC invalid params */
	FUND_ERR_AFFORD, /* 301: not enough confirmed outputs */
	FUND_ERR_DUST,	 /* 302: too small */
	FUND_ERR_PEER,	 /* 305: peer not connected */
};

/* Fund a channel as fundchannel does: spends confirmed outputs of @r->node
 * (fee at @r->feerate_perkw for the funding weight plus extra inputs, the
 * change back to the wallet), creates the channel in
 * CHANNELD_AWAITING_LOCKIN and charges the fee to onchain_fees_paid_sat.
 * Returns FUND_OK with *chan set, or an error with *err (caller frees). */
enum fund_err chain_fund_channel(struct net *net, const struct fund_req *r,
				 uint32_t *chan, char **err)
    __attribute__((warn_unused_result));

/* Start a mutual close of @chan requested by node @closer. The opener pays
 * the closing fee at @feerate_perkw. Records CHANNELD_SHUTTING_DOWN (and,
 * with no HTLC in flight, CLOSINGD_SIGEXCHANGE and CLOSINGD_COMPLETE with
 * the tx broadcast). False with *err if the channel cannot be closed. */
bool chain_close_channel(struct net *net, uint32_t chan, uint32_t closer,
			 uint32_t feerate_perkw, char **err)
    __attribute__((warn_unused_result));

/* Mine one block: height + 1, smoothed feerate, and every open or close
 * this block moves forward. @changed is called after each recorded state
 * change (to notify). */
void chain_new_block(struct net *net,
		     void (*changed)(void *arg, uint32_t chan,
				     const struct chan_change *c),
		     void *arg);

#endif
