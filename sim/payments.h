/* The payment engine: demand, senders and HTLCs moving through the
 * simulated network (the model and its sources: /work/notes/simulators.md
 * section (e); route choice per wallet: sim/route.h).
 *
 * Demand comes from a seeded generator whose stream depends only on the
 * seed and the payment's number (never on what the plugins do or on what
 * happened to other payments), so a run and its --baseline face exactly
 * the same payments. Senders are external nodes that choose routes as real
 * wallets do (gossip-visible fees, probability penalties, fading memory of
 * failures, fee caps, bounded attempts, MPP), and every attempt holds an
 * HTLC slot and balance on each hop until it resolves. Forwards through
 * fleet nodes are recorded in their fwdlog and reported through pay_hooks
 * so the fake lightningd can notify plugins.
 *
 * Everything runs on the caller's event queue (sim/evq.h): the engine
 * schedules its own events (types >= PAY_EVENT_BASE) and handles them when
 * the caller pops them. Times are unix milliseconds; the caller keeps
 * net->now_sec at the popped event's time (gossip visibility and the fee
 * grace read it).
 *
 * The scenario's "traffic" object (every field optional):
 *
 *   capacity_multiplier   4      network volume per 30 days / total
 *                                capacity (SimLN's knob semantics; set
 *                                where routing yield is reproduced:
 *                                River's 0.6 is a lower bound on a network
 *                                with longer routes)
 *   amount_median_sat     20000  log-normal payment amounts ...
 *   amount_sigma          1.2    ... (mean ~41k sat, River: 44.7k)
 *   amount_min_sat        1      clip
 *   amount_max_sat        5000000
 *   zap_share             0      share of a second "zap" component ...
 *   zap_median_sat        100    ... (tips/streaming: 10-1000 sat)
 *   zap_sigma             1.2
 *   diurnal_amplitude     0.3    rate x (1 + A cos(2pi (h - peak)/24))
 *   diurnal_peak_hour     21     UTC hour of the daily peak
 *   weekend_factor        0.85   rate on Saturday and Sunday (UTC)
 *   directional_bias      1      0: ignore nodes' send/recv weights
 *                                (SimLN-like symmetric demand); 1: as given
 *   senders               {"lnd": 0.6, "lnd_bimodal": 0.1, "ldk": 0.15,
 *                          "cln_xpay": 0.1, "cln_pay": 0.05}
 *                                mix of wallet route-finding models
 *   fee_cap_scale         1      multiplies every model's fee cap
 *   fee_cap_sigma         0.25   per-payment log-normal spread of the cap
 *   belief_noise          0.1    per-payment spread of believed hop costs
 *   max_attempts          10     per payment (all parts together)
 *   retry_budget_sec      60     no new attempt after this (pay/lncli)
 *   hop_latency_min_ms    100    per hop and direction, uniform
 *   hop_latency_max_ms    300
 *   fee_grace_sec         600    a raised fee is enforced after this
 *                                (CLN setchannel enforcedelay default)
 *   mpp                   true   split when no single route is found
 *   memory_max            512    remembered channels per sender (lnd: 1000)
 *   fee_sensitivity  "default"   "low", "default" or "high": the fee's
 *                                weight in every sender model's hop cost,
 *                                x1 (the wallets' constants), x5, x15
 *   refill_half_life_days 3      channels between external nodes relax
 *                                toward their opening split (their
 *                                operators' upkeep); 0: never
 *
 * Senders and receivers are the non-fleet nodes with channels, weighted by
 * their channel capacity times (1 + bias*(send_weight-1)) (resp.
 * recv_weight), both fixed when the engine is created. Fleet nodes route;
 * they neither send nor receive demand. */
#ifndef HIVE_SIM_PAYMENTS_H
#define HIVE_SIM_PAYMENTS_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evq;
struct event;
struct fwd;
struct net;
struct payments;

enum pay_fail_reason {
	PAY_OK,
	PAY_NO_ROUTE,	  /* none within the fee cap (after splitting) */
	PAY_EXHAUSTED,	  /* attempts or retry budget used up */
};

/* One finished payment (demand or injected), for pay_hooks. */
struct pay_result {
	uint64_t id;		/* demand number, or injected id */
	bool injected;
	uint64_t arrival_ms, done_ms;
	uint32_t sender, receiver;
	int sender_kind;	/* enum sender_kind (sim/route.h) */
	uint64_t amount_msat;
	uint64_t fee_cap_msat;
	uint64_t fee_msat;	/* paid (succeeded only) */
	bool succeeded;
	uint32_t attempts;	/* HTLC sets sent, parts included */
	uint32_t parts;		/* parts that settled */
	enum pay_fail_reason reason;
};

struct pay_hooks {
	/* A forward at fleet node @node was created or resolved. */
	void (*forward_event)(void *arg, uint32_t node, const struct fwd *f);
	/* A payment finished (optional). */
	void (*payment_done)(void *arg, const struct pay_result *r);
};

/* How strongly senders weigh fees against reliability (the "traffic"
 * object's fee_sensitivity): a scenario knob, so no result depends on one
 * guess about wallets. */
enum fee_sensitivity { SENS_LOW, SENS_DEFAULT, SENS_HIGH };

/* "low", "default" or "high" into *out (may be NULL: only check). */
bool payments_sensitivity_parse(const char *name, enum fee_sensitivity *out);
const char *payments_sensitivity_name(enum fee_sensitivity s);
/* The engine's fee sensitivity. */
enum fee_sensitivity payments_sensitivity(const struct payments *p);

/* Event types the engine uses are >= PAY_EVENT_BASE. */
#define PAY_EVENT_BASE 1000
#define PAY_EVENT_LAST 1009

/* @traffic is the scenario's "traffic" object (may be NULL: defaults).
 * Reads the network as it is now for the demand's weights and rate (add
 * generated nodes first). NULL with *err (caller frees; it names the
 * field, "traffic.amount_median_sat: must be a positive number") on a bad
 * configuration. @hooks may be NULL; it is copied. */
struct payments *payments_new(struct net *net, struct evq *q,
			      const json_t *traffic, uint64_t seed,
			      const struct pay_hooks *hooks, void *hooks_arg,
			      char **err);
/* Frees the engine and every payment in flight (HTLCs they hold stay
 * counted in the net's channels). Accepts NULL. */
void payments_free(struct payments *p);

/* Generate demand from @start_ms until @end_ms (schedules arrivals one at
 * a time). Calling it again with a later @end_ms continues the same
 * stream, so [a, b) then [b, c) gives the payments of [a, c). */
void payments_start(struct payments *p, uint64_t start_ms, uint64_t end_ms);
/* Handle an event the caller popped; false if it is not the engine's. */
bool payments_handle(struct payments *p, const struct event *ev);

/* The parameters of demand payment number @k (a pure function of the
 * seed, the traffic settings and the network's initial weights): false if
 * payment @k draws no valid pair (it is then skipped). Arrival times come
 * from a separate stream; payment_done reports them. */
struct pay_demand {
	uint32_t sender, receiver;
	uint64_t amount_msat;
	int sender_kind;
	uint64_t fee_cap_msat;
	uint64_t noise_seed, dyn_seed;
};
bool payments_demand(const struct payments *p, uint64_t k,
		     struct pay_demand *out);

/* Schedule one explicit payment at @at_ms (tests, scripted activity): it
 * behaves as a demand payment of @sender_kind (enum sender_kind) with the
 * model's default fee cap and no belief noise. Returns its id. */
uint64_t payments_inject(struct payments *p, uint64_t at_ms, uint32_t sender,
			 uint32_t receiver, uint64_t amount_msat,
			 int sender_kind);

/* One hop of an explicit route, as `sendpay` takes it. */
struct pay_hop {
	uint32_t chan;		/* net channel index */
	uint32_t to_node;	/* node index this hop delivers to */
	uint64_t amount_msat;	/* amount delivered over this channel */
	uint32_t delay;
};

enum sendpay_status { SENDPAY_COMPLETE, SENDPAY_FAILED };

struct sendpay_result {
	enum sendpay_status status;
	uint64_t fee_msat;	  /* paid by the payer (complete only) */
	size_t erring_index;	  /* hop index that failed (0: the payer) */
	uint32_t erring_chan;
	uint32_t erring_node;	  /* the node that reported it */
	int erring_direction;	  /* direction of erring_chan */
	uint16_t failcode;	  /* BOLT 4 failure code */
	const char *failcodename; /* e.g. WIRE_TEMPORARY_CHANNEL_FAILURE */
};

/* A fleet node pays along @hops now (plugins' circular rebalances):
 * resolves at once under the current balances, in-flight HTLCs and
 * policies, moves the balances, credits forwarding fees, records forwards
 * at fleet nodes, and adds the fee to the payer's
 * rebalance_fees_paid_msat when the route ends at the payer. Returns
 * false with *err if the route is malformed (not connected, not starting
 * at @payer, unknown channel, too long); a payment that fails in the
 * network returns true with res->status SENDPAY_FAILED. */
bool payments_sendpay_now(struct payments *p, uint32_t payer,
			  const struct pay_hop *hops, size_t nhops,
			  const uint8_t payment_hash[32],
			  struct sendpay_result *res, char **err);

/* Cheapest route from @from to @to for @amount_msat by the public (gossip)
 * view, as `getroute` answers: cost fee + amount*delay*riskfactor/5259600,
 * final CLTV 9; channels in @exclude (net indices) skipped. Returns the
 * hop count (0 = no route); fills @hops (caller array of at least 20). */
size_t payments_getroute(struct payments *p, uint32_t from, uint32_t to,
			 uint64_t amount_msat, double riskfactor,
			 const uint32_t *exclude, size_t nexclude,
			 struct pay_hop *hops);

/* Amount buckets: <1k, <10k, <100k, <1M, >=1M sat. */
#define PAY_BUCKETS 5

/* Totals for the report and the validation bench, over payments that
 * arrived at or after the last payments_reset_stats and have finished. */
struct pay_stats {
	uint64_t payments_attempted, payments_succeeded;
	uint64_t first_try_succeeded; /* no attempt of it failed */
	uint64_t attempts;	  /* including retries and parts */
	uint64_t volume_msat;	  /* of succeeded payments */
	uint64_t fees_paid_msat;  /* by senders */
	uint64_t failed_no_route, failed_exhausted;
	uint64_t mpp_payments;	  /* succeeded in more than one part */
	uint64_t bucket_attempted[PAY_BUCKETS];
	uint64_t bucket_succeeded[PAY_BUCKETS];
	uint64_t bucket_first_try[PAY_BUCKETS];
	uint64_t route_searches;  /* engine-wide, never reset */
};
void payments_stats(const struct payments *p, struct pay_stats *out);
/* Only payments arriving at or after @ms count (warm-up excluded). */
void payments_reset_stats(struct payments *p, uint64_t ms);
/* Bucket of an amount (index into the bucket arrays). */
int payments_bucket(uint64_t amount_msat);

#endif
