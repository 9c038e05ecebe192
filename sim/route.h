/* Route finding as real senders do it, over the gossip-visible network.
 *
 * One label-setting Dijkstra (binary heap over adjacency lists, no
 * allocation per relaxation) runs backwards from the recipient, as lnd
 * and CLN do, so each hop's amount includes the fees of the hops after
 * it. What differs between wallets is the cost of a hop, so the search
 * takes a sender model (struct route_query.kind) whose constants come
 * from the implementations (see /work/notes/simulators.md section (c)):
 *
 *   lnd (apriori)  weight = fee + amt*cltv*15e-9; distance = weight +
 *                  attempt_cost / P(route), attempt_cost = 100 sat +
 *                  1000 ppm; P(hop) = 0.6, 0.95 after a success at >= amt,
 *                  a failure at <= amt drops it to 0 recovering with a 1 h
 *                  half-life; routes below P = 0.01 pruned.
 *   lnd bimodal    same, P from the bimodal liquidity prior (s = 300k
 *                  sat) within bounds learnt from results (7 d decay).
 *   LDK            fee + 1024 msat + 131072*amt/2^30 per hop + 250 msat
 *                  anti-probing + historical penalty (10000 msat +
 *                  1250*amt/2^20) * -log10 P once the channel has
 *                  history (bounds relax with a 6 h half-life); no more
 *                  than 1/4 of a channel's capacity per path, a limit
 *                  dropped when no route fits it (router.rs).
 *   CLN pay        (fee + risk + 1) * (1 - ln((c+1-a)/(c+1))), risk =
 *                  amt*cltv*10/5259600; no memory across payments.
 *   CLN xpay       mu*fee + (100-mu)*k*(-ln P_uniform) with k the ratio
 *                  of median fee cost to median probability cost, mu = 1
 *                  raised (10, 100) only when the fee exceeds the budget;
 *                  learnt bounds kept for 1 h.
 *   getroute       CLN's getroute: fee + amt*cltv*riskfactor/5259600.
 *
 * Senders see fees as gossip shows them (chan_policy.seen_*), or as the
 * last channel_update they received in an error (struct mc_entry.upd_*),
 * never other channels' balances; their own channels' balances they do
 * know. A per-payment multiplicative noise on each hop's weight (hashed
 * from the payment's noise seed and the channel) stands for the spread of
 * beliefs among real senders, so market share moves smoothly with price. */
#ifndef HIVE_SIM_ROUTE_H
#define HIVE_SIM_ROUTE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net;

#define ROUTE_MAX_HOPS 20

enum sender_kind {
	SENDER_LND,
	SENDER_LND_BIMODAL,
	SENDER_LDK,
	SENDER_CLN_XPAY,
	SENDER_CLN_PAY,
	SENDER_NKINDS,
	SENDER_GETROUTE = SENDER_NKINDS, /* not a demand sender */
};

/* A directed channel: chan * 2 + the side that offers the HTLC. */
static inline uint32_t route_edge(uint32_t chan, int side)
{
	return chan * 2 + (uint32_t)side;
}

/* What one sender remembers about one directed channel (mission
 * control). Times in ms; 0 = never. */
struct mc_entry {
	uint32_t edge;
	uint32_t upd_ppm;
	uint64_t fail_ms, fail_msat;  /* last failure and its amount */
	uint64_t ok_ms, ok_msat;      /* last success, largest amount */
	uint64_t upd_ms, upd_base_msat; /* channel_update from an error */
	uint64_t used_ms;	      /* for eviction */
};

struct mc {
	struct mc_entry *v;
	size_t n, cap;
};

void mc_free(struct mc *m);
/* The HTLC failed at @edge for @amt_msat (lack of liquidity; 0 for a
 * failure at any amount); as lnd, a success above it is lowered. */
void mc_fail(struct mc *m, size_t max, uint32_t edge, uint64_t amt_msat,
	     uint64_t now_ms);
void mc_success(struct mc *m, size_t max, uint32_t edge, uint64_t amt_msat,
		uint64_t now_ms);
/* A channel_update received in an error for @edge. */
void mc_update(struct mc *m, size_t max, uint32_t edge, uint64_t base_msat,
	       uint32_t ppm, uint64_t now_ms);
const struct mc_entry *mc_find(const struct mc *m, uint32_t edge);

/* A per-payment exclusion: @edge is not tried again for amounts >=
 * @min_msat (0: any amount). */
struct route_excl {
	uint32_t edge;
	uint64_t min_msat;
};

struct route_query {
	uint32_t source, target;
	uint64_t amount_msat;	 /* delivered to @target */
	enum sender_kind kind;
	uint64_t fee_cap_msat;	 /* routes whose fees exceed it are pruned */
	double noise_sigma;	 /* 0: exact beliefs */
	uint64_t noise_seed;
	double riskfactor;	 /* getroute only */
	uint64_t now_ms;
	bool local_balances;	 /* the source knows its channels' balances */
	const struct mc *mem;	 /* sender's memory, may be NULL */
	const struct route_excl *excl;
	size_t nexcl;
	uint32_t final_cltv;
	double xpay_mu;		 /* CLN xpay fee weight, 1..100 */
	/* Multiplies the fee in every sender model's hop cost (the fee
	 * sensitivity); 0 means 1. Fee caps are not affected. */
	double fee_weight;
	bool ldk_saturation;	 /* LDK: at most 1/4 of a channel per path */
};

struct route_hop {
	uint32_t chan;
	uint8_t side;		 /* side offering the HTLC */
	uint32_t to_node;
	uint64_t amount_msat;	 /* carried over this channel */
	uint32_t cltv;		 /* expiry delta carried (getroute "delay") */
};

struct router;

/* The router keeps scratch sized to @net and rebuilds its adjacency when
 * nodes or channels are added. Borrows @net. */
struct router *router_new(struct net *net);
void router_free(struct router *r);

/* Cheapest route for @q by its sender model; fills @hops (room for
 * ROUTE_MAX_HOPS) and *fee_msat (what the source pays on top of the
 * amount). Returns the hop count, 0 when there is none. */
size_t router_find(struct router *r, const struct route_query *q,
		   struct route_hop *hops, uint64_t *fee_msat);

/* Counters for the benchmark (relaxations and searches so far). */
void router_counters(const struct router *r, uint64_t *searches,
		     uint64_t *relaxations);

/* 1% of capacity, as lightningd negotiates by default (and as
 * sim/methods.c reports). */
static inline uint64_t route_reserve_msat(uint64_t capacity_sat)
{
	return capacity_sat * 10;
}

#endif
