/* The payment engine's parts and what they share (sim/payments.h is the
 * interface; only sim/payments.c and sim/payments_*.c include this):
 *
 *   sim/payments_demand.c  the "traffic" settings, the demand stream and
 *                          its tables, the senders' models (fee caps,
 *                          splitting);
 *   sim/payments_direct.c  forwarding records, HTLC mechanics, and the
 *                          fleet's own payments resolved at once
 *                          (sendpay, getroute);
 *   sim/payments.c         payments in flight: attempts, retries, MPP,
 *                          events, external liquidity upkeep. */
#ifndef HIVE_SIM_PAYMENTS_INTERNAL_H
#define HIVE_SIM_PAYMENTS_INTERNAL_H
#include "common/rng.h"
#include "sim/payments.h"
#include "sim/route.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct fwd;
struct net_channel;

enum {
	EV_ARRIVAL = PAY_EVENT_BASE, /* a = candidate number, b = accepted */
	EV_INJECT,		     /* a = injected slot */
	EV_HOP,			     /* a = attempt, b = generation */
	EV_BACK,		     /* failure reached the sender */
	EV_SETTLE,		     /* preimage reached the sender */
	EV_RELEASE,		     /* held MPP part failed back */
	EV_REFILL,		     /* hourly: external liquidity upkeep */
};

/* BOLT 4 failure codes. */
#define BADONION 0x8000
#define PERM 0x4000
#define NODE 0x2000
#define UPDATE 0x1000
#define WIRE_TEMPORARY_CHANNEL_FAILURE (UPDATE | 7)
#define WIRE_UNKNOWN_NEXT_PEER (PERM | 10)
#define WIRE_AMOUNT_BELOW_MINIMUM (UPDATE | 11)
#define WIRE_FEE_INSUFFICIENT (UPDATE | 12)
#define WIRE_CHANNEL_DISABLED (UPDATE | 20)
#define WIRE_MPP_TIMEOUT 23

#define NO_SLOT UINT32_MAX
#define REFILL_MS (3600 * 1000ULL)
#define MAX_PARTS 32


struct traffic_cfg {
	double capacity_multiplier;
	double amount_median_sat, amount_sigma;
	uint64_t amount_min_sat, amount_max_sat;
	double zap_share, zap_median_sat, zap_sigma;
	double diurnal_amplitude, diurnal_peak_hour, weekend_factor;
	double directional_bias;
	double mix[SENDER_NKINDS];
	double fee_cap_scale, fee_cap_sigma, belief_noise;
	uint64_t max_attempts, retry_budget_sec;
	uint64_t hop_latency_min_ms, hop_latency_max_ms;
	uint64_t fee_grace_sec, memory_max;
	bool mpp;
	enum fee_sensitivity sensitivity;
	double refill_half_life_days;
};

struct ahop {
	uint32_t chan;
	uint8_t side;
	uint16_t lat_ms;	/* latency to the next node */
	uint64_t amt;
	uint64_t fwd_ci;	/* created_index at a fleet forwarder, 0 none */
};

struct attempt {
	uint32_t gen;
	uint32_t pay;		/* payment slot */
	uint32_t next_free;
	bool live;
	uint8_t nhops;
	uint8_t next;		/* hops locked so far */
	uint8_t fail_hop;
	uint16_t failcode;
	uint64_t amount_msat;	/* delivered to the receiver */
	struct ahop hops[ROUTE_MAX_HOPS];
};

struct payment {
	uint32_t gen;
	uint32_t next_free;
	bool live;
	bool injected;
	uint64_t id;
	uint64_t arrival_ms, deadline_ms;
	struct pay_demand d;
	struct rng rng;		/* latencies: this payment's own stream */
	uint8_t hash[32];
	uint64_t unassigned_msat; /* not in any attempt */
	uint64_t held_msat;	/* arrived at the receiver */
	uint64_t fee_msat;
	uint32_t attempts, inflight, settled, released;
	uint32_t held[MAX_PARTS];
	uint32_t nheld;
	bool completing, giving_up, had_failure;
	enum pay_fail_reason reason;
	struct route_excl *excl;
	size_t nexcl, capexcl;
};

struct inject {
	uint64_t at_ms;
	uint32_t sender, receiver;
	uint64_t amount_msat;
	int kind;
};

struct payments {
	struct net *net;
	struct evq *q;
	struct pay_hooks hooks;
	void *hooks_arg;
	struct traffic_cfg cfg;
	struct router *router;
	struct rng arrival_root, demand_root;
	uint64_t hash_salt;
	/* Demand tables, frozen at creation. */
	uint32_t *send_nodes, *recv_nodes;
	double *send_cum, *recv_cum;
	size_t nsend, nrecv;
	double kind_cum[SENDER_NKINDS];
	double rate_base_per_ms, rate_max_per_ms, weekly_norm;
	double amount_mean_sat;
	/* Arrival stream state: the next candidate (number, time, and how
	 * many were accepted before it). */
	bool started, pending;
	uint64_t cand, cand_accepted, end_ms;
	double cand_ms;
	/* Pools. */
	struct payment *pays;
	size_t npays, cappays;
	uint32_t pay_free;
	struct attempt *ats;
	size_t nats, capats;
	uint32_t at_free;
	struct mc *mem;		/* per node */
	size_t nmem;
	struct inject *inj;
	size_t ninj, capinj;
	uint64_t now_ms;
	uint64_t stats_from_ms;
	struct pay_stats st;
	/* Opening split (side 0's balance) of the channels that existed at
	 * creation: external channels relax toward it. */
	uint64_t *refill_target_msat;
	size_t nrefill;
	bool refill_scheduled;
	uint64_t refill_next_ms; /* on an hourly grid from the first start */
};

struct sender_model {
	uint32_t cap_ppm;
	uint64_t cap_exempt_msat;
	bool cap_additive;	 /* LDK: 1% + 50 sat; others max(x%, 5 sat) */
	uint64_t min_shard_msat; /* smallest part when splitting */
	uint32_t max_parts;
	bool uses_memory;	 /* remembers results across payments */
};
/* Per sender model, indexed by enum sender_kind (sim/payments_demand.c). */
extern const struct sender_model pay_models[SENDER_NKINDS];

/* ---- sim/payments_demand.c ---- */
/* Check the scenario's "traffic" object (NULL: defaults) into @c. */
bool pay_parse_traffic(const json_t *t, struct traffic_cfg *c, char **err);
/* The fee's weight in every sender model's hop cost at @s. */
double pay_fee_weight(enum fee_sensitivity s);
/* A sender model's fee cap for @amount_msat, before the spread. */
uint64_t pay_fee_cap_rule(int kind, uint64_t amount_msat);
/* Demand rate at @t_ms relative to the mean (daily and weekly rhythm). */
double pay_rhythm(const struct payments *p, double t_ms);
/* The demand tables, from the network as it is now. */
void pay_build_tables(struct payments *p);

/* ---- sim/payments_direct.c ---- */
/* A fleet node received an HTLC asking to be forwarded: record it as
 * lightningd does. Returns its created_index (0 for non-fleet nodes). */
uint64_t pay_fwd_open(struct payments *p, uint32_t node, uint32_t in_chan,
		      uint32_t out_chan, uint64_t in_msat, uint64_t out_msat,
		      enum fwd_status status, uint16_t failcode,
		      uint64_t now_ms, const uint8_t hash[32]);
void pay_fwd_close(struct payments *p, uint32_t node, uint64_t ci,
		   enum fwd_status status, uint64_t now_ms);
/* Whether side @s of @ch can offer an HTLC of @amt now; for a forward
 * (@has_in) also whether @amt_in pays the node's fee. 0 or a failcode. */
uint16_t pay_htlc_check(const struct payments *p,
			const struct net_channel *ch, int s, uint64_t amt,
			bool has_in, uint64_t amt_in);
void pay_htlc_lock(struct net_channel *ch, int s, uint64_t amt);
void pay_htlc_unlock(struct net_channel *ch, int s, uint64_t amt);
/* The HTLC settles: its amount moves to the other side. */
void pay_htlc_settle(struct net_channel *ch, int s, uint64_t amt);
/* Credit the node on side @s of @out for forwarding @in_msat into
 * @out_msat over it. */
void pay_credit_forward(struct net *net, struct net_channel *out, int s,
			uint64_t in_msat, uint64_t out_msat);

#endif
