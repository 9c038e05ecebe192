/* What a fake lightningd tells its plugins and RPC clients when something
 * happens: the payloads of Core Lightning's notifications and hooks (v26
 * shapes: forward_event, channel_state_changed, connect, disconnect,
 * block_added, invoice_payment, sendpay_success/failure, peer_connected),
 * and the `wait` machinery (subsystem indexes, held requests answered
 * when the index they wait for is reached). Used by sim/methods*.c and
 * sim/sim.c; every payload goes out through lnd_notify / lnd_hook. */
#ifndef HIVE_SIM_NOTIFY_H
#define HIVE_SIM_NOTIFY_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct chan_change;
struct fwd;
struct invoice;
struct lnd;
struct lnd_req;
struct net;
struct net_channel;
struct net_node;
struct sendpay;

/* BOLT 4 failure name as lightningd prints it ("WIRE_..."), or NULL. */
const char *bolt4_failcode_name(uint16_t code);

/* A forward as listforwards lists it (@for_event false) or as the
 * forward_event notification carries it (true: adds payment_hash).
 * Returns a new object. */
json_t *notify_fwd_json(const struct net *net, const struct fwd *f,
			bool for_event);
/* Seconds with a fractional part, as lightningd prints times. */
json_t *notify_time_json(uint64_t ms);
/* "2026-01-01T00:00:00.000Z". */
void notify_iso_time(uint64_t ms, char *buf, size_t len);

/* A payment's fields as listsendpays / sendpay / waitsendpay print them
 * (json_add_payment_fields). New object. */
json_t *notify_sendpay_json(const struct net *net, const struct sendpay *sp);

/* A forward at @lnd's node was created or changed: forward_event, and
 * `wait forwards` requests that are now due. */
void notify_forward(struct lnd *lnd, const struct net *net,
		    const struct fwd *f);
/* channel_state_changed for @c (a change of @ch) as @lnd's node sees
 * it (cause and message from its side). */
void notify_chan_state(struct lnd *lnd, const struct net *net,
		       const struct net_channel *ch,
		       const struct chan_change *c);
/* @peer connected to @lnd's node (@incoming: the peer dialled): the
 * connect notification and the chained peer_connected hook. */
void notify_connect(struct lnd *lnd, const struct net *net,
		    const struct net_node *peer, bool incoming);
void notify_disconnect(struct lnd *lnd, const struct net_node *peer);
void notify_block(struct lnd *lnd, const struct net *net);
/* An invoice of @lnd's node was paid: invoice_payment, `wait invoices`. */
void notify_invoice_paid(struct lnd *lnd, const struct invoice *inv);
/* A payment @lnd's node sent was created or resolved: sendpay_success or
 * sendpay_failure (when resolved) and `wait sendpays`. @failure is the
 * error object waitsendpay returns (borrowed; failed payments only). */
void notify_sendpay(struct lnd *lnd, const struct sendpay *sp, bool created,
		    const json_t *failure);
/* An invoice was created: `wait invoices`. */
void notify_invoice_created(struct lnd *lnd, const struct invoice *inv);

/* The last four are lightningd's too; nothing in the simulation bumps
 * them, so they stay 0. */
enum wait_subsys {
	WAIT_FORWARDS,
	WAIT_SENDPAYS,
	WAIT_INVOICES,
	WAIT_HTLCS,
	WAIT_CHAINMOVES,
	WAIT_CHANNELMOVES,
	WAIT_NETWORKEVENTS,
};
enum wait_index { WAIT_CREATED, WAIT_UPDATED, WAIT_DELETED };

/* Parse names; false if unknown. */
bool wait_subsys_parse(const char *s, enum wait_subsys *out);
bool wait_index_parse(const char *s, enum wait_index *out);
const char *wait_subsys_name(enum wait_subsys s);
/* The node's current value of an index. */
uint64_t wait_index_value(const struct net *net, uint32_t node,
			  enum wait_subsys s, enum wait_index i);
/* `wait`: answer at once if @next is reached, else hold @req until it is
 * (or until the node shuts down: then it fails with code -5). */
void wait_request(struct lnd_req *req, enum wait_subsys s, enum wait_index i,
		  uint64_t next);
/* Answer held waits of @s that are now due; @details (borrowed, may be
 * NULL) describes the change, as lightningd's wait answers carry it. */
void wait_poke(struct lnd *lnd, enum wait_subsys s, const json_t *details);

#endif
