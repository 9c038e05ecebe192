/* Notification and hook payloads, and `wait`; see notify.h. */
#include "sim/notify.h"
#include "common/util.h"
#include "common/wire.h"
#include "sim/chain.h"
#include "sim/lightningd.h"
#include "sim/net.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

/* lightningd answers held requests with this at shutdown. */
#define ERR_LIGHTNINGD_SHUTDOWN (-5)
/* Features lightningd advertises in init and node_announcement (as in
 * getinfo's our_features). */
#define PEER_FEATURES "08a0000a8a5961"

const char *bolt4_failcode_name(uint16_t code)
{
	static const struct {
		uint16_t code;
		const char *name;
	} names[] = {
	    {0x4001, "WIRE_INVALID_REALM"},
	    {0x2002, "WIRE_TEMPORARY_NODE_FAILURE"},
	    {0x6002, "WIRE_PERMANENT_NODE_FAILURE"},
	    {0x6003, "WIRE_REQUIRED_NODE_FEATURE_MISSING"},
	    {0xC004, "WIRE_INVALID_ONION_VERSION"},
	    {0xC005, "WIRE_INVALID_ONION_HMAC"},
	    {0xC006, "WIRE_INVALID_ONION_KEY"},
	    {0x1007, "WIRE_TEMPORARY_CHANNEL_FAILURE"},
	    {0x4008, "WIRE_PERMANENT_CHANNEL_FAILURE"},
	    {0x4009, "WIRE_REQUIRED_CHANNEL_FEATURE_MISSING"},
	    {0x400A, "WIRE_UNKNOWN_NEXT_PEER"},
	    {0x100B, "WIRE_AMOUNT_BELOW_MINIMUM"},
	    {0x100C, "WIRE_FEE_INSUFFICIENT"},
	    {0x100D, "WIRE_INCORRECT_CLTV_EXPIRY"},
	    {0x100E, "WIRE_EXPIRY_TOO_SOON"},
	    {0x400F, "WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS"},
	    {0x0012, "WIRE_FINAL_INCORRECT_CLTV_EXPIRY"},
	    {0x0013, "WIRE_FINAL_INCORRECT_HTLC_AMOUNT"},
	    {0x1014, "WIRE_CHANNEL_DISABLED"},
	    {0x0015, "WIRE_EXPIRY_TOO_FAR"},
	    {0x4016, "WIRE_INVALID_ONION_PAYLOAD"},
	    {0x0017, "WIRE_MPP_TIMEOUT"},
	    {0xC018, "WIRE_INVALID_ONION_BLINDING"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].code == code)
			return names[i].name;
	return NULL;
}

json_t *notify_time_json(uint64_t ms)
{
	/* lightningd prints seconds.nanoseconds; we keep milliseconds,
	 * which a double holds exactly enough for any date we simulate. */
	return json_real((double)(ms / 1000) + (double)(ms % 1000) / 1000.0);
}

void notify_iso_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", base, (unsigned)(ms % 1000));
}

json_t *notify_fwd_json(const struct net *net, const struct fwd *f,
			bool for_event)
{
	json_t *o = json_object();
	bool has_out =
	    f->out_chan != FWD_NO_CHANNEL && f->out_chan < net->nchans;

	/* Field order and presence follow json_add_forwarding_fields. */
	json_object_set_new(o, "created_index",
			    json_integer((json_int_t)f->created_index));
	if (f->updated_index)
		json_object_set_new(o, "updated_index",
				    json_integer((json_int_t)f->updated_index));
	if (for_event) {
		char *h = hex_encode(f->payment_hash, 32);
		json_object_set_new(o, "payment_hash", json_string(h));
		free(h);
	}
	json_object_set_new(o, "in_channel",
			    json_string(net->chans[f->in_chan].scid));
	json_object_set_new(o, "in_htlc_id",
			    json_integer((json_int_t)f->in_htlc_id));
	if (has_out) {
		json_object_set_new(o, "out_channel",
				    json_string(net->chans[f->out_chan].scid));
		/* Only an HTLC actually offered downstream has an id (the
		 * notification never carries it). */
		if (!for_event && f->out_msat && f->status != FWD_LOCAL_FAILED)
			json_object_set_new(
			    o, "out_htlc_id",
			    json_integer((json_int_t)f->out_htlc_id));
	}
	json_object_set_new(o, "in_msat", json_integer((json_int_t)f->in_msat));
	if (has_out && f->out_msat) {
		json_object_set_new(o, "out_msat",
				    json_integer((json_int_t)f->out_msat));
		json_object_set_new(o, "fee_msat",
				    json_integer((json_int_t)f->fee_msat));
	}
	json_object_set_new(o, "status",
			    json_string(fwd_status_name(f->status)));
	if (f->failcode &&
	    (f->status == FWD_LOCAL_FAILED || f->status == FWD_FAILED)) {
		const char *name = bolt4_failcode_name(f->failcode);
		char unknown[32];
		json_object_set_new(o, "failcode", json_integer(f->failcode));
		snprintf(unknown, sizeof(unknown), "UNKNOWN %u", f->failcode);
		json_object_set_new(o, "failreason",
				    json_string(name ? name : unknown));
	}
	json_object_set_new(o, "style", json_string("tlv"));
	json_object_set_new(o, "received_time",
			    notify_time_json(f->received_ms));
	/* listforwards shows resolved_time for settled and failed only (its
	 * schema forbids it on local_failed); the notification whenever the
	 * forward is resolved. */
	if (f->resolved_ms &&
	    (for_event || f->status == FWD_SETTLED || f->status == FWD_FAILED))
		json_object_set_new(o, "resolved_time",
				    notify_time_json(f->resolved_ms));
	return o;
}

json_t *notify_sendpay_json(const struct net *net, const struct sendpay *sp)
{
	json_t *o = json_object();
	char *h = hex_encode(sp->hash, 32);

	/* The order of json_add_payment_fields. */
	json_object_set_new(o, "created_index",
			    json_integer((json_int_t)sp->id));
	json_object_set_new(o, "id", json_integer((json_int_t)sp->id));
	json_object_set_new(o, "payment_hash", json_string(h));
	free(h);
	json_object_set_new(o, "groupid",
			    json_integer((json_int_t)sp->groupid));
	if (sp->updated_index)
		json_object_set_new(
		    o, "updated_index",
		    json_integer((json_int_t)sp->updated_index));
	if (sp->partid)
		json_object_set_new(o, "partid",
				    json_integer((json_int_t)sp->partid));
	if (sp->destination != SP_NO_NODE && sp->destination < net->nnodes)
		json_object_set_new(
		    o, "destination",
		    json_string(net->nodes[sp->destination].key.id_hex));
	if (sp->amount_msat)
		json_object_set_new(o, "amount_msat",
				    json_integer((json_int_t)sp->amount_msat));
	json_object_set_new(o, "amount_sent_msat",
			    json_integer((json_int_t)sp->sent_msat));
	json_object_set_new(o, "created_at",
			    json_integer((json_int_t)sp->created_at));
	if (sp->status != SP_PENDING)
		json_object_set_new(o, "completed_at",
				    json_integer((json_int_t)sp->completed_at));
	json_object_set_new(o, "status",
			    json_string(sp->status == SP_PENDING ? "pending"
					: sp->status == SP_COMPLETE
					    ? "complete"
					    : "failed"));
	if (sp->status == SP_COMPLETE) {
		char *p = hex_encode(sp->preimage, 32);
		json_object_set_new(o, "payment_preimage", json_string(p));
		free(p);
	}
	if (sp->label)
		json_object_set_new(o, "label", json_string(sp->label));
	if (sp->bolt11)
		json_object_set_new(o, "bolt11", json_string(sp->bolt11));
	return o;
}

/* ---------- notifications ---------- */

static void fwd_wait_details(json_t *d, const struct net *net,
			     const struct fwd *f)
{
	json_object_set_new(d, "status",
			    json_string(fwd_status_name(f->status)));
	json_object_set_new(d, "in_channel",
			    json_string(net->chans[f->in_chan].scid));
	json_object_set_new(d, "in_htlc_id",
			    json_integer((json_int_t)f->in_htlc_id));
	json_object_set_new(d, "in_msat", json_integer((json_int_t)f->in_msat));
	if (f->out_chan != FWD_NO_CHANNEL && f->out_chan < net->nchans)
		json_object_set_new(d, "out_channel",
				    json_string(net->chans[f->out_chan].scid));
}

void notify_forward(struct lnd *lnd, const struct net *net, const struct fwd *f)
{
	json_t *d = json_object();

	lnd_notify(lnd, "forward_event", notify_fwd_json(net, f, true));
	fwd_wait_details(d, net, f);
	wait_poke(lnd, WAIT_FORWARDS, d);
	json_decref(d);
}

void notify_chan_state(struct lnd *lnd, const struct net *net,
		       const struct net_channel *ch,
		       const struct chan_change *c)
{
	uint32_t me = lnd_node_idx(lnd);
	int us = net_channel_side(ch, me);
	enum chan_cause cause = c->cause;
	const char *msg = c->message;
	char stamp[40];
	json_t *o;

	if (us < 0)
		return;
	/* What one side did, the other sees its peer do. */
	if (c->by_side >= 0 && c->by_side != us &&
	    (cause == CAUSE_USER || cause == CAUSE_LOCAL)) {
		cause = CAUSE_REMOTE;
		if (c->peer_message)
			msg = c->peer_message;
	}
	notify_iso_time(c->at_ms, stamp, sizeof(stamp));
	o = json_pack("{s:s,s:s}", "peer_id",
		      net->nodes[ch->node[1 - us]].key.id_hex, "channel_id",
		      ch->channel_id);
	if (net_channel_mined(net, ch))
		json_object_set_new(o, "short_channel_id",
				    json_string(ch->scid));
	json_object_set_new(o, "timestamp", json_string(stamp));
	if (c->old_state != CLN_NONE)
		json_object_set_new(o, "old_state",
				    json_string(cln_state_name(c->old_state)));
	json_object_set_new(o, "new_state",
			    json_string(cln_state_name(c->new_state)));
	json_object_set_new(o, "cause", json_string(chan_cause_name(cause)));
	if (msg)
		json_object_set_new(o, "message", json_string(msg));
	lnd_notify(lnd, "channel_state_changed", o);
}

static json_t *peer_address(const struct net_node *peer)
{
	return json_pack("{s:s,s:s,s:i}", "type", "ipv4", "address",
			 "127.0.0.1", "port", (int)(9735 + peer->idx));
}

void notify_connect(struct lnd *lnd, const struct net *net,
		    const struct net_node *peer, bool incoming)
{
	char *addr = xfmt("127.0.0.1:%u", 9735 + peer->idx);

	(void)net;
	lnd_notify(lnd, "connect",
		   json_pack("{s:s,s:s,s:o}", "id", peer->key.id_hex,
			     "direction", incoming ? "in" : "out", "address",
			     peer_address(peer)));
	lnd_hook(lnd, "peer_connected",
		 json_pack("{s:{s:s,s:s,s:s,s:s}}", "peer", "id",
			   peer->key.id_hex, "direction",
			   incoming ? "in" : "out", "addr", addr, "features",
			   PEER_FEATURES));
	free(addr);
}

void notify_disconnect(struct lnd *lnd, const struct net_node *peer)
{
	lnd_notify(lnd, "disconnect",
		   json_pack("{s:s}", "id", peer->key.id_hex));
}

void notify_block(struct lnd *lnd, const struct net *net)
{
	char hash[65];
	/* Block hashes start with zeros, as mined ones do. */
	chain_hash_hex(net, "hive-sim-block", net->height, hash);
	memset(hash, '0', 16);
	lnd_notify(
	    lnd, "block_added",
	    json_pack("{s:s,s:i}", "hash", hash, "height", (int)net->height));
}

void notify_invoice_created(struct lnd *lnd, const struct invoice *inv)
{
	json_t *d = json_pack("{s:s,s:s,s:s}", "status", "unpaid", "label",
			      inv->label, "bolt11", inv->bolt11);
	wait_poke(lnd, WAIT_INVOICES, d);
	json_decref(d);
}

void notify_invoice_paid(struct lnd *lnd, const struct invoice *inv)
{
	char *pre = hex_encode(inv->preimage, 32);
	json_t *d;

	lnd_notify(lnd, "invoice_payment",
		   json_pack("{s:I,s:s,s:s}", "msat",
			     (json_int_t)inv->received_msat, "preimage", pre,
			     "label", inv->label));
	free(pre);
	d = json_pack("{s:s,s:s,s:s}", "status", "paid", "label", inv->label,
		      "bolt11", inv->bolt11);
	wait_poke(lnd, WAIT_INVOICES, d);
	json_decref(d);
}

void notify_sendpay(struct lnd *lnd, const struct sendpay *sp, bool created,
		    const json_t *failure)
{
	const struct net *net = lnd_net(lnd);
	char *h = hex_encode(sp->hash, 32);
	json_t *d = json_pack("{s:s,s:I,s:I,s:s}", "status",
			      sp->status == SP_PENDING	  ? "pending"
			      : sp->status == SP_COMPLETE ? "complete"
							  : "failed",
			      "partid", (json_int_t)sp->partid, "groupid",
			      (json_int_t)sp->groupid, "payment_hash", h);

	free(h);
	if (!created && sp->status == SP_COMPLETE)
		lnd_notify(lnd, "sendpay_success",
			   notify_sendpay_json(net, sp));
	else if (!created && sp->status == SP_FAILED && failure)
		lnd_notify(lnd, "sendpay_failure", json_deep_copy(failure));
	wait_poke(lnd, WAIT_SENDPAYS, d);
	json_decref(d);
}

/* ---------- wait ---------- */

static const char *const subsys_names[] = {
    "forwards",	  "sendpays",	  "invoices",	  "htlcs",
    "chainmoves", "channelmoves", "networkevents"};
static const char *const index_names[] = {"created", "updated", "deleted"};

bool wait_subsys_parse(const char *s, enum wait_subsys *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(subsys_names); i++) {
		if (!strcmp(s, subsys_names[i])) {
			*out = (enum wait_subsys)i;
			return true;
		}
	}
	return false;
}

bool wait_index_parse(const char *s, enum wait_index *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(index_names); i++) {
		if (!strcmp(s, index_names[i])) {
			*out = (enum wait_index)i;
			return true;
		}
	}
	return false;
}

const char *wait_subsys_name(enum wait_subsys s)
{
	return subsys_names[s];
}

uint64_t wait_index_value(const struct net *net, uint32_t node,
			  enum wait_subsys s, enum wait_index i)
{
	const struct net_node *n = &net->nodes[node];

	/* Nothing is ever deleted in a simulation. */
	if (i == WAIT_DELETED)
		return 0;
	switch (s) {
	case WAIT_FORWARDS:
		return i == WAIT_CREATED ? n->fwds.n
					 : n->fwds.next_updated_index - 1;
	case WAIT_SENDPAYS:
		return i == WAIT_CREATED ? n->led.nsps : n->led.sp_updated;
	case WAIT_INVOICES:
		return i == WAIT_CREATED ? n->led.ninvs : n->led.inv_updated;
	case WAIT_HTLCS:
	case WAIT_CHAINMOVES:
	case WAIT_CHANNELMOVES:
	case WAIT_NETWORKEVENTS:
		break;
	}
	return 0;
}

struct waiter {
	struct lnd_req *req;
	enum wait_subsys s;
	enum wait_index i;
	uint64_t next;
};

struct wait_state {
	struct waiter *v;
	size_t n, cap;
};

static void wait_state_destroy(void *arg)
{
	struct wait_state *ws = arg;

	for (size_t k = 0; k < ws->n; k++)
		lnd_req_fail(ws->v[k].req, ERR_LIGHTNINGD_SHUTDOWN,
			     "lightningd is shutting down");
	free(ws->v);
	free(ws);
}

static json_t *wait_answer(enum wait_subsys s, enum wait_index i, uint64_t val,
			   const json_t *details)
{
	json_t *o = json_object();

	json_object_set_new(o, "subsystem", json_string(subsys_names[s]));
	json_object_set_new(o, index_names[i], json_integer((json_int_t)val));
	/* v26 drops the deprecated "details" copy. */
	if (details)
		json_object_set_new(o, subsys_names[s],
				    json_deep_copy(details));
	return o;
}

void wait_request(struct lnd_req *req, enum wait_subsys s, enum wait_index i,
		  uint64_t next)
{
	struct lnd *lnd = lnd_req_node(req);
	uint64_t val = wait_index_value(lnd_net(lnd), lnd_node_idx(lnd), s, i);
	struct wait_state *ws;

	if (val >= next) {
		lnd_req_ok(req, wait_answer(s, i, val, NULL));
		return;
	}
	ws = lnd_ext(lnd, LND_EXT_WAIT);
	if (!ws) {
		ws = xzalloc(sizeof(*ws));
		lnd_set_ext(lnd, LND_EXT_WAIT, ws, wait_state_destroy);
	}
	xgrow(&ws->v, &ws->cap, ws->n + 1, sizeof(*ws->v));
	ws->v[ws->n++] =
	    (struct waiter){.req = req, .s = s, .i = i, .next = next};
}

void wait_poke(struct lnd *lnd, enum wait_subsys s, const json_t *details)
{
	struct wait_state *ws = lnd_ext(lnd, LND_EXT_WAIT);
	const struct net *net = lnd_net(lnd);

	if (!ws)
		return;
	for (size_t k = 0; k < ws->n;) {
		struct waiter w = ws->v[k];
		uint64_t val =
		    wait_index_value(net, lnd_node_idx(lnd), w.s, w.i);
		if (w.s != s || val < w.next) {
			k++;
			continue;
		}
		/* Remove first (keeping the order requests came in):
		 * answering must not see it again. */
		memmove(&ws->v[k], &ws->v[k + 1],
			(ws->n - k - 1) * sizeof(*ws->v));
		ws->n--;
		lnd_req_ok(w.req, wait_answer(w.s, w.i, val, details));
	}
}
