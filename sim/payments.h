/* The payment engine: demand, senders and HTLCs moving through the
 * simulated network (see doc/simulator.md for the model and its sources).
 *
 * Demand comes from a seeded generator whose stream depends only on the
 * scenario and seed (never on what the plugins do), so a run and its
 * --baseline face exactly the same payments. Senders are external nodes
 * that choose routes as real wallets do (gossip-visible fees, probability
 * penalties, fading memory of failures, fee caps, bounded attempts, MPP),
 * and every attempt holds HTLC slots and balance along its path until it
 * resolves. Forwards through fleet nodes are recorded in their fwdlog and
 * reported through pay_hooks so the fake lightningd can notify plugins.
 *
 * Everything runs on the caller's event queue (sim/evq.h): the engine
 * schedules its own events and handles them when the caller pops them. */
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

struct pay_hooks {
	/* A forward at fleet node @node was created or resolved. */
	void (*forward_event)(void *arg, uint32_t node, const struct fwd *f);
};

/* Event types the engine uses are >= PAY_EVENT_BASE. */
#define PAY_EVENT_BASE 1000

/* @traffic is the scenario's "traffic" object (may be NULL: defaults).
 * NULL with *err (naming the field) on a bad configuration. */
struct payments *payments_new(struct net *net, struct evq *q,
			      const json_t *traffic, uint64_t seed,
			      const struct pay_hooks *hooks, void *hooks_arg,
			      char **err);
void payments_free(struct payments *p);

/* Generate demand from @start_ms until @end_ms (schedules arrivals). */
void payments_start(struct payments *p, uint64_t start_ms, uint64_t end_ms);
/* Handle an event the caller popped; false if it is not the engine's. */
bool payments_handle(struct payments *p, const struct event *ev);

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
	size_t erring_index;	  /* hop index that failed */
	uint32_t erring_chan;
	uint32_t erring_node;
	uint16_t failcode;	  /* BOLT 4 failure code */
	const char *failcodename; /* e.g. WIRE_TEMPORARY_CHANNEL_FAILURE */
};

/* A fleet node pays along @hops now (plugins' circular rebalances):
 * resolves at once under the current balances and policies, moves the
 * balances, credits forwarding fees and records forwards at fleet nodes.
 * Returns false with *err if the route is malformed (not connected, not
 * starting at @payer, unknown channel). */
bool payments_sendpay_now(struct payments *p, uint32_t payer,
			  const struct pay_hop *hops, size_t nhops,
			  const uint8_t payment_hash[32],
			  struct sendpay_result *res, char **err);

/* Cheapest route from @from to @to for @amount_msat by the public (gossip)
 * view, as `getroute` answers: riskfactor as in CLN; channels in
 * @exclude (net indices) skipped. Returns the hop count (0 = no route);
 * fills @hops (caller array of at least 20). */
size_t payments_getroute(struct payments *p, uint32_t from, uint32_t to,
			 uint64_t amount_msat, double riskfactor,
			 const uint32_t *exclude, size_t nexclude,
			 struct pay_hop *hops);

/* Totals for the report and the validation bench. */
struct pay_stats {
	uint64_t payments_attempted, payments_succeeded;
	uint64_t attempts;	  /* including retries */
	uint64_t volume_msat;	  /* of succeeded payments */
	uint64_t fees_paid_msat;  /* by senders */
	/* Success by amount bucket: <10k, <100k, <1M, >=1M sat. */
	uint64_t bucket_attempted[4], bucket_succeeded[4];
};
void payments_stats(const struct payments *p, struct pay_stats *out);
/* Only payments arriving at or after @ms count (warm-up excluded). */
void payments_reset_stats(struct payments *p, uint64_t ms);

#endif
