/* Payment methods of the fake lightningd: sendpay, waitsendpay,
 * listsendpays, listforwards and wait (invoice and getroute, which come
 * before a payment, are in methods_invoice.c).
 *
 * A sendpay resolves at once through the payment engine
 * (payments_sendpay_now), but answers as lightningd does: "pending", with
 * the outcome left for waitsendpay, listsendpays and the sendpay_success /
 * sendpay_failure notifications; a failure at our own first hop fails the
 * sendpay itself (code 204, no payment recorded). The destination settles
 * only a payment hash it has an invoice for: an invoice of a fleet node
 * (so a circular rebalance to self settles and reveals its preimage).
 * Anything else (a probe with a random hash) is played hop by hop against
 * the current balances and policies, without moving funds, and fails
 * where it would: at a hop (204) or at the destination with
 * WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS (203), as a real probe does. */
#include "common/amount.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/util.h"
#include "common/wire.h"
#include "sim/methods.h"
#include "sim/net.h"
#include "sim/notify.h"
#include "sim/payments.h"
#include <stdio.h>
#include <string.h>

#define FAIL_TEMPORARY_CHANNEL 0x1007
#define FAIL_UNKNOWN_NEXT_PEER 0x400A
#define FAIL_AMOUNT_BELOW_MINIMUM 0x100B
#define FAIL_FEE_INSUFFICIENT 0x100C
#define FAIL_CHANNEL_DISABLED 0x1014
#define FAIL_UNKNOWN_PAYMENT 0x400F
#define FAIL_BADONION 0x8000
#define FAIL_PERM 0x4000

/* The fake lightningd of @node as seen from @lnd's (NULL: external). */
static struct lnd *node_lnd(struct lnd *lnd, uint32_t node)
{
	void *arg;
	const struct sim_hooks *h = lnd_sim_hooks(lnd, &arg);

	if (node == lnd_node_idx(lnd))
		return lnd;
	return h && h->node_lnd ? h->node_lnd(arg, node) : NULL;
}

/* ---------- sendpay ---------- */

struct routefail {
	uint32_t erring_index;
	uint32_t erring_node; /* node index */
	uint32_t erring_chan; /* net index or UINT32_MAX */
	int erring_dir;
	uint16_t failcode;
};

/* data of a failed sendpay/waitsendpay: payment fields (if any) and the
 * routing failure (json_add_routefail_info). */
static json_t *fail_data(const struct net *net, const struct sendpay *sp,
			 const struct routefail *rf)
{
	json_t *d = sp ? notify_sendpay_json(net, sp) : json_object();
	const char *name = bolt4_failcode_name(rf->failcode);

	json_object_set_new(d, "erring_index", json_integer(rf->erring_index));
	json_object_set_new(d, "failcode", json_integer(rf->failcode));
	if (name)
		json_object_set_new(d, "failcodename", json_string(name));
	json_object_set_new(
	    d, "erring_node",
	    json_string(net->nodes[rf->erring_node].key.id_hex));
	if (rf->erring_chan != UINT32_MAX) {
		json_object_set_new(
		    d, "erring_channel",
		    json_string(net->chans[rf->erring_chan].scid));
		json_object_set_new(d, "erring_direction",
				    json_integer(rf->erring_dir));
	}
	return d;
}

static int fail_errcode(const struct routefail *rf, bool final_node)
{
	if (rf->failcode & FAIL_BADONION)
		return 202;
	if (final_node && (rf->failcode & FAIL_PERM))
		return CLN_PAY_DESTINATION_PERM_FAIL;
	return CLN_PAY_TRY_OTHER_ROUTE;
}

static char *fail_message(const struct routefail *rf, const char *detail)
{
	const char *name = bolt4_failcode_name(rf->failcode);
	if (name)
		return xfmt("failed: %s (%s)", name, detail);
	return xfmt("failed: UNKNOWN %u (%s)", rf->failcode, detail);
}

/* The error object waitsendpay answers for a failed payment (and the
 * sendpay_failure notification carries). New. */
static json_t *failure_json(const struct net *net, const struct sendpay *sp)
{
	struct routefail rf = {.erring_index = sp->erring_index,
			       .erring_node = sp->erring_node,
			       .erring_chan = sp->erring_chan,
			       .erring_dir = sp->erring_dir,
			       .failcode = sp->failcode};
	char *msg = fail_message(&rf, sp->faildetail);
	json_t *o = json_pack("{s:i,s:s,s:o}", "code", sp->errcode, "message",
			      msg, "data", fail_data(net, sp, &rf));
	free(msg);
	return o;
}

/* Fail @req with @data (stolen) as the error's data. */
static void fail_with(struct lnd_req *req, int code, const char *msg,
		      json_t *data)
{
	lnd_req_fail_data(req, code, msg, data);
}

/* Where a failure reported by node @erring_node lands in CLN's terms,
 * given the route's nodes r[0] = payer .. r[n] = destination. */
static void locate_failure(const struct net *net, const uint32_t *r,
			   const struct pay_hop *hops, size_t n,
			   uint32_t erring_node, size_t fallback_index,
			   struct routefail *rf)
{
	size_t k = n + 1;

	for (size_t i = 0; i <= n; i++)
		if (r[i] == erring_node) {
			k = i;
			break;
		}
	if (k > n)
		k = fallback_index <= n ? fallback_index : n;
	rf->erring_index = (uint32_t)k;
	rf->erring_node = r[k];
	if (k == n) {
		/* The final node blames the channel it was paid over. */
		rf->erring_chan = hops[n - 1].chan;
		rf->erring_dir =
		    net_channel_side(&net->chans[hops[n - 1].chan], r[n - 1]);
	} else {
		rf->erring_chan = hops[k].chan;
		rf->erring_dir =
		    net_channel_side(&net->chans[hops[k].chan], r[k]);
	}
	if (rf->erring_dir < 0)
		rf->erring_dir = 0;
}

static uint64_t reserve_msat(const struct net_channel *ch)
{
	return ch->capacity_sat * 10;
}

/* Play a payment the destination cannot settle: the first hop that
 * would refuse it, else the destination refusing the hash. No state
 * changes. */
static void dry_run(const struct net *net, const uint32_t *r,
		    const struct pay_hop *hops, size_t n, struct routefail *rf)
{
	for (size_t k = 0; k < n; k++) {
		const struct net_channel *ch = &net->chans[hops[k].chan];
		int side = net_channel_side(ch, r[k]);
		const struct chan_policy *p;
		uint16_t code = 0;
		uint64_t fee;

		/* The checks and their order are the engine's (a forward
		 * checks the policy; every hop the slots and balance). */
		if (side < 0 || net_channel_side(ch, r[k + 1]) < 0 ||
		    ch->state != CHAN_NORMAL) {
			code = FAIL_UNKNOWN_NEXT_PEER;
		} else if (!net->nodes[ch->node[0]].connected ||
			   !net->nodes[ch->node[1]].connected) {
			code = FAIL_TEMPORARY_CHANNEL;
		} else {
			p = &ch->pol[side];
			if (k > 0 && !p->enabled)
				code = FAIL_CHANNEL_DISABLED;
			else if (k > 0 &&
				 (!amount_fee_msat(&fee, hops[k].amount_msat,
						   p->base_msat, p->ppm) ||
				  hops[k - 1].amount_msat <
				      hops[k].amount_msat + fee))
				code = FAIL_FEE_INSUFFICIENT;
			else if (k > 0 &&
				 hops[k].amount_msat < p->htlc_min_msat)
				code = FAIL_AMOUNT_BELOW_MINIMUM;
			else if ((k > 0 &&
				  hops[k].amount_msat > p->htlc_max_msat) ||
				 ch->htlcs_out[side] >=
				     ch->max_htlcs[1 - side] ||
				 ch->balance_msat[side] <
				     reserve_msat(ch) +
					 ch->htlc_out_msat[side] +
					 hops[k].amount_msat)
				code = FAIL_TEMPORARY_CHANNEL;
		}
		if (code) {
			rf->failcode = code;
			locate_failure(net, r, hops, n, r[k], k, rf);
			return;
		}
	}
	rf->failcode = FAIL_UNKNOWN_PAYMENT;
	locate_failure(net, r, hops, n, r[n], n, rf);
}

/* Parse the route param into hops (lightningd takes either the v26.06
 * names or the classic ones per hop). */
static bool parse_route(struct lnd_req *req, const json_t *jroute,
			struct pay_hop *hops, size_t *n)
{
	struct net *net = meth_net(req);
	size_t i;
	json_t *h;

	if (!json_is_array(jroute) ||
	    json_array_size(jroute) > MAX_ROUTE_HOPS) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "route: must be an array of at most %d hops",
			     MAX_ROUTE_HOPS);
		return false;
	}
	json_array_foreach(jroute, i, h)
	{
		const json_t *c = json_object_get(h, "short_channel_id_dir");
		const json_t *id = json_object_get(h, "node_id_out");
		const json_t *amt = json_object_get(h, "amount_out_msat");
		const json_t *dl = json_object_get(h, "cltv_out");
		char scid[32];
		const struct net_channel *ch;
		const struct net_node *node;
		uint64_t msat;

		if (!c)
			c = json_object_get(h, "channel");
		if (!id)
			id = json_object_get(h, "id");
		if (!amt)
			amt = json_object_get(h, "amount_msat");
		if (!dl)
			dl = json_object_get(h, "delay");
		if (!c || !id || !amt || !dl) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "route[%zu]: must have channel, id, "
				     "amount_msat and delay",
				     i);
			return false;
		}
		snprintf(scid, sizeof(scid), "%s",
			 json_string_value(c) ? json_string_value(c) : "");
		if (strlen(scid) > 2 && scid[strlen(scid) - 2] == '/')
			scid[strlen(scid) - 2] = '\0';
		if (!scid_valid(scid)) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "route[%zu]: bad short_channel_id", i);
			return false;
		}
		if (!pubkey_hex_valid(json_string_value(id))) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "route[%zu]: bad node_id", i);
			return false;
		}
		if (!meth_amount_value(amt, &msat) || !json_is_integer(dl) ||
		    json_integer_value(dl) < 0 ||
		    json_integer_value(dl) > UINT32_MAX) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "route[%zu]: bad amount or delay", i);
			return false;
		}
		ch = net_channel_by_scid(net, scid);
		node = net_node_by_id(net, json_string_value(id));
		/* Unknown channels and nodes stay in the route as
		 * UINT32_MAX: the HTLC fails where it meets them. */
		hops[i] =
		    (struct pay_hop){.chan = ch ? ch->idx : UINT32_MAX,
				     .to_node = node ? node->idx : UINT32_MAX,
				     .amount_msat = msat,
				     .delay = (uint32_t)json_integer_value(dl)};
	}
	*n = json_array_size(jroute);
	return true;
}

/* lightningd's check_progress: what earlier payments of @hash allow.
 * Returns false after answering @req; *done set to a complete payment
 * to answer with instead of sending. */
static bool check_progress(struct lnd_req *req, const uint8_t hash[32],
			   uint64_t msat, uint64_t total, uint64_t partid,
			   uint64_t groupid, uint32_t dest,
			   const struct sendpay **done)
{
	struct net_node *me = meth_self(req);
	bool have_complete = false;
	uint64_t pending = 0;

	*done = NULL;
	for (size_t i = 0; i < me->led.nsps; i++) {
		const struct sendpay *sp = &me->led.sps[i];
		if (memcmp(sp->hash, hash, 32))
			continue;
		if (sp->status == SP_COMPLETE) {
			have_complete = true;
			if (sp->partid != partid)
				continue;
			if (sp->amount_msat != msat) {
				lnd_req_fail(
				    req, CLN_PAY_RHASH_ALREADY_USED,
				    "Already succeeded with amount "
				    "%llumsat (not %llumsat)",
				    (unsigned long long)sp->amount_msat,
				    (unsigned long long)msat);
				return false;
			}
			if (sp->destination != dest) {
				lnd_req_fail(req, CLN_PAY_RHASH_ALREADY_USED,
					     "Already succeeded to %s",
					     meth_net(req)
						 ->nodes[sp->destination]
						 .key.id_hex);
				return false;
			}
			*done = sp;
			return true;
		}
		if (sp->status == SP_PENDING) {
			if (sp->groupid != groupid) {
				lnd_req_fail(req, CLN_PAY_IN_PROGRESS,
					     "Payment with groupid=%llu still "
					     "in progress, cannot retry before "
					     "that completes.",
					     (unsigned long long)sp->groupid);
				return false;
			}
			pending += sp->amount_msat;
		}
		if (sp->partid == partid && sp->groupid == groupid) {
			char *h = hex_encode(hash, 32);
			lnd_req_fail(req, CLN_PAY_RHASH_ALREADY_USED,
				     "There already is a payment with "
				     "payment_hash=%s, groupid=%llu, "
				     "partid=%llu. Either change the partid, "
				     "or wait for the payment to complete and "
				     "start a new group.",
				     h, (unsigned long long)groupid,
				     (unsigned long long)partid);
			free(h);
			return false;
		}
	}
	if (have_complete) {
		lnd_req_fail(req, CLN_PAY_RHASH_ALREADY_USED,
			     "Already succeeded other parts");
		return false;
	}
	if (total && pending >= total) {
		lnd_req_fail(req, CLN_PAY_IN_PROGRESS,
			     "Already have %llumsat of %llumsat payments in "
			     "progress",
			     (unsigned long long)pending,
			     (unsigned long long)total);
		return false;
	}
	return true;
}

/* The invoice at @dest that would settle a payment of @hash delivering
 * @msat of a @total_msat whole, or NULL. */
static struct invoice *settling_invoice(struct net *net, uint32_t dest,
					const uint8_t hash[32], uint64_t total)
{
	struct invoice *inv =
	    ledger_invoice_by_hash(&net->nodes[dest].led, hash);

	if (!inv || inv->status != INV_UNPAID ||
	    inv->expires_at <= net->now_sec)
		return NULL;
	if (!inv->any_amount && total < inv->amount_msat)
		return NULL;
	return inv;
}

/* The payment reached its destination: settle the invoice there. (Takes
 * the node, not the request: the request is answered by then.) */
static void settle(struct lnd *lnd, uint32_t dest, struct invoice *inv,
		   uint64_t msat)
{
	struct net *net = lnd_net(lnd);
	struct lnd *l;

	inv->received_msat += msat;
	if (!inv->any_amount && inv->received_msat < inv->amount_msat)
		return; /* more parts to come */
	ledger_invoice_paid(&net->nodes[dest].led, inv, inv->received_msat,
			    net->now_sec);
	l = node_lnd(lnd, dest);
	if (l)
		notify_invoice_paid(l, inv);
}

static void m_sendpay(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {
	    "route",   "payment_hash",	   "label",	  "amount_msat",
	    "bolt11",  "payment_secret",   "partid",	  "localinvreqid",
	    "groupid", "payment_metadata", "description", "dev_legacy_hop",
	    NULL};
	struct lnd *lnd = lnd_req_node(req);
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	struct payments *pay = meth_payments(req);
	const json_t *jroute = meth_param(params, 0, "route");
	const char *label = meth_param_str(params, 2, "label");
	const char *bolt11 = meth_param_str(params, 4, "bolt11");
	struct pay_hop hops[MAX_ROUTE_HOPS];
	uint32_t r[MAX_ROUTE_HOPS + 1];
	uint8_t hash[32], secret[32];
	uint64_t msat = 0, partid = 0, groupid = 0, final_msat;
	bool has_msat, has_group, has_secret;
	size_t n = 0;
	const struct sendpay *done;
	struct sendpay *sp;
	struct invoice *inv;
	struct routefail rf = {0};
	bool failed = false;
	const char *detail = "reply from remote";
	uint32_t dest;
	json_t *res;

	if (!meth_check_names(req, params, names) ||
	    !meth_hash(req, params, 1, "payment_hash", true, hash, NULL) ||
	    !meth_msat(req, params, 3, "amount_msat", false, &msat,
		       &has_msat) ||
	    !meth_hash(req, params, 5, "payment_secret", false, secret,
		       &has_secret) ||
	    !meth_u64(req, params, 6, "partid", false, &partid, NULL) ||
	    !meth_u64(req, params, 8, "groupid", false, &groupid, &has_group))
		return;
	if (!jroute) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: route");
		return;
	}
	if (!parse_route(req, jroute, hops, &n))
		return;
	if (partid && !has_msat) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Must specify msatoshi with partid");
		return;
	}
	if (!has_group)
		groupid = ledger_max_groupid(&me->led, hash) + 1;

	if (n == 0) {
		/* Paying ourselves: settles at once against our invoice. */
		if (!has_msat || partid) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     has_msat ? "Self-payment does not allow "
						"(non-zero) partid"
					      : "Self-payment requires "
						"amount_msat");
			return;
		}
		if (!check_progress(req, hash, msat, msat, 0, groupid, me->idx,
				    &done))
			return;
		if (done) {
			lnd_req_ok(req, notify_sendpay_json(net, done));
			return;
		}
		inv = settling_invoice(net, me->idx, hash, msat);
		sp = ledger_add_sendpay(&me->led);
		memcpy(sp->hash, hash, 32);
		sp->groupid = groupid;
		sp->amount_msat = sp->sent_msat = sp->total_msat = msat;
		sp->destination = me->idx;
		sp->created_at = net->now_sec;
		sp->label = label ? xstrdup(label) : NULL;
		sp->bolt11 = bolt11 ? xstrdup(bolt11) : NULL;
		notify_sendpay(lnd, sp, true, NULL);
		if (inv) {
			memcpy(sp->preimage, inv->preimage, 32);
			ledger_sendpay_resolve(&me->led, sp, SP_COMPLETE,
					       net->now_sec);
			settle(lnd, me->idx, inv, msat);
			notify_sendpay(lnd, sp, false, NULL);
			lnd_req_ok(req, notify_sendpay_json(net, sp));
			return;
		}
		sp->errcode = CLN_PAY_DESTINATION_PERM_FAIL;
		sp->erring_node = me->idx;
		sp->failcode = FAIL_UNKNOWN_PAYMENT;
		sp->faildetail = "unknown invoice";
		ledger_sendpay_resolve(&me->led, sp, SP_FAILED, net->now_sec);
		res = failure_json(net, sp);
		notify_sendpay(lnd, sp, false, res);
		{
			json_t *data = json_object_get(res, "data");
			json_object_del(data, "erring_channel");
			json_object_del(data, "erring_direction");
			fail_with(
			    req, sp->errcode,
			    json_string_value(json_object_get(res, "message")),
			    json_incref(data));
		}
		json_decref(res);
		return;
	}

	final_msat = hops[n - 1].amount_msat;
	if (has_msat && !partid && msat != final_msat) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Do not specify msatoshi (%llumsat) without "
			     "partid: if you do, it must be exactly the final "
			     "amount (%llumsat)",
			     (unsigned long long)msat,
			     (unsigned long long)final_msat);
		return;
	}
	if (partid && final_msat > msat) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Final amount %llumsat is greater than %llumsat, "
			     "despite MPP",
			     (unsigned long long)final_msat,
			     (unsigned long long)msat);
		return;
	}
	if (partid && !has_secret) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "partid requires payment_secret");
		return;
	}
	dest = hops[n - 1].to_node;
	if (!check_progress(req, hash, final_msat, has_msat ? msat : final_msat,
			    partid, groupid, dest, &done))
		return;
	if (done) {
		lnd_req_ok(req, notify_sendpay_json(net, done));
		return;
	}
	/* Our first hop must be one of our channels to that peer. */
	r[0] = me->idx;
	if (hops[0].chan == UINT32_MAX || hops[0].to_node == UINT32_MAX ||
	    net_channel_side(&net->chans[hops[0].chan], me->idx) < 0 ||
	    net_channel_peer(&net->chans[hops[0].chan], me->idx) !=
		hops[0].to_node ||
	    !net->nodes[hops[0].to_node].connected) {
		json_t *data = json_pack(
		    "{s:i,s:i,s:s,s:s}", "erring_index", 0, "failcode",
		    FAIL_UNKNOWN_NEXT_PEER, "failcodename",
		    bolt4_failcode_name(FAIL_UNKNOWN_NEXT_PEER), "erring_node",
		    me->key.id_hex);
		fail_with(req, CLN_PAY_TRY_OTHER_ROUTE,
			  "No connection to first peer found", data);
		return;
	}
	for (size_t i = 0; i < n; i++)
		r[i + 1] = hops[i].to_node;
	/* A malformed tail (unknown channel or node) fails at the node
	 * that cannot forward: play it dry. */
	for (size_t i = 1; i < n; i++) {
		if (hops[i].chan == UINT32_MAX ||
		    hops[i].to_node == UINT32_MAX) {
			rf.failcode = FAIL_UNKNOWN_NEXT_PEER;
			rf.erring_index = (uint32_t)i;
			rf.erring_node = r[i];
			rf.erring_chan = UINT32_MAX;
			failed = true;
			break;
		}
	}

	inv = failed ? NULL
		     : settling_invoice(net, dest, hash,
					has_msat ? msat : final_msat);
	if (!failed && inv) {
		struct sendpay_result pr;
		char *err = NULL;
		if (!pay) {
			lnd_req_fail(req, ERR_LIGHTNINGD, "no payment engine");
			return;
		}
		if (!payments_sendpay_now(pay, me->idx, hops, n, hash, &pr,
					  &err)) {
			/* Not connected along the way: the HTLC dies at
			 * the first node that has no such channel. */
			free(err);
			dry_run(net, r, hops, n, &rf);
			failed = true;
		} else if (pr.status == SENDPAY_FAILED) {
			rf.failcode = pr.failcode;
			locate_failure(net, r, hops, n, pr.erring_node,
				       pr.erring_index, &rf);
			failed = true;
		}
	} else if (!failed) {
		dry_run(net, r, hops, n, &rf);
		failed = true;
	}
	if (failed && rf.erring_index == 0) {
		/* Our own channel refused the HTLC: sendpay fails at once,
		 * nothing recorded (immediate_routing_failure). */
		char *msg = fail_message(&rf, "First peer not ready");
		fail_with(req, CLN_PAY_TRY_OTHER_ROUTE, msg,
			  fail_data(net, NULL, &rf));
		free(msg);
		return;
	}

	sp = ledger_add_sendpay(&me->led);
	memcpy(sp->hash, hash, 32);
	sp->groupid = groupid;
	sp->partid = partid;
	sp->amount_msat = final_msat;
	sp->total_msat = has_msat ? msat : final_msat;
	sp->sent_msat = hops[0].amount_msat;
	sp->destination = dest;
	sp->created_at = net->now_sec;
	sp->label = label ? xstrdup(label) : NULL;
	sp->bolt11 = bolt11 ? xstrdup(bolt11) : NULL;
	notify_sendpay(lnd, sp, true, NULL);
	/* lightningd answers once the HTLC is out: still pending. */
	res = notify_sendpay_json(net, sp);
	json_object_set_new(res, "message",
			    json_string("Monitor status with listpays or "
					"waitsendpay"));
	lnd_req_ok(req, res);

	if (!failed) {
		memcpy(sp->preimage, inv->preimage, 32);
		ledger_sendpay_resolve(&me->led, sp, SP_COMPLETE, net->now_sec);
		settle(lnd, dest, inv, final_msat);
		notify_sendpay(lnd, sp, false, NULL);
		return;
	}
	sp->errcode = fail_errcode(&rf, rf.erring_index == n);
	sp->erring_index = rf.erring_index;
	sp->erring_node = rf.erring_node;
	sp->erring_chan = rf.erring_chan;
	sp->erring_dir = rf.erring_dir;
	sp->failcode = rf.failcode;
	sp->faildetail = detail;
	ledger_sendpay_resolve(&me->led, sp, SP_FAILED, net->now_sec);
	res = failure_json(net, sp);
	notify_sendpay(lnd, sp, false, res);
	json_decref(res);
}

static void m_waitsendpay(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"payment_hash", "timeout", "partid",
					    "groupid", NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	uint8_t hash[32];
	uint64_t timeout = 0, partid = 0, groupid = 0;
	bool has_group;
	const struct sendpay *sp = NULL;
	json_t *res;

	if (!meth_check_names(req, params, names) ||
	    !meth_hash(req, params, 0, "payment_hash", true, hash, NULL) ||
	    !meth_u64(req, params, 1, "timeout", false, &timeout, NULL) ||
	    !meth_u64(req, params, 2, "partid", false, &partid, NULL) ||
	    !meth_u64(req, params, 3, "groupid", false, &groupid, &has_group))
		return;
	if (!has_group)
		groupid = ledger_max_groupid(&me->led, hash);
	for (size_t i = 0; i < me->led.nsps; i++) {
		const struct sendpay *s = &me->led.sps[i];
		if (!memcmp(s->hash, hash, 32) && s->partid == partid &&
		    s->groupid == groupid)
			sp = s;
	}
	if (!sp) {
		char *h = hex_encode(hash, 32);
		lnd_req_fail(req, CLN_PAY_NO_SUCH_PAYMENT,
			     "Never attempted payment part %llu for '%s'",
			     (unsigned long long)partid, h);
		free(h);
		return;
	}
	switch (sp->status) {
	case SP_COMPLETE:
		lnd_req_ok(req, notify_sendpay_json(net, sp));
		return;
	case SP_PENDING:
		/* Every payment resolves as it is sent. */
		lnd_req_fail(req, CLN_PAY_IN_PROGRESS,
			     "Timed out while waiting");
		return;
	case SP_FAILED:
		break;
	}
	res = failure_json(net, sp);
	fail_with(req, sp->errcode,
		  json_string_value(json_object_get(res, "message")),
		  json_incref(json_object_get(res, "data")));
	json_decref(res);
}

static const char *sp_status_name(enum sp_status s)
{
	return s == SP_PENDING	  ? "pending"
	       : s == SP_COMPLETE ? "complete"
				  : "failed";
}

static int cmp_updated_sp(const void *a, const void *b)
{
	const struct sendpay *x = *(const struct sendpay *const *)a;
	const struct sendpay *y = *(const struct sendpay *const *)b;
	return (x->updated_index > y->updated_index) -
	       (x->updated_index < y->updated_index);
}

static void m_listsendpays(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"bolt11", "payment_hash", "status",
					    "index",  "start",	      "limit",
					    NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	const char *bolt11 = meth_param_str(params, 0, "bolt11");
	const char *status = meth_param_str(params, 2, "status");
	const char *index;
	uint8_t hash[32];
	bool has_hash;
	uint64_t start, limit;
	const struct sendpay **v;
	size_t nv = 0;
	json_t *arr;

	if (!meth_check_names(req, params, names) ||
	    !meth_hash(req, params, 1, "payment_hash", false, hash,
		       &has_hash) ||
	    !meth_pagination(req, params, 3, &index, &start, &limit))
		return;
	if (status && strcmp(status, "pending") && strcmp(status, "complete") &&
	    strcmp(status, "failed")) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "status: should be pending, complete or failed");
		return;
	}
	if (bolt11 && has_hash) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Can only specify one of {bolt11} or "
			     "{payment_hash}");
		return;
	}
	v = xzalloc(sizeof(*v) * (me->led.nsps + 1));
	for (size_t i = 0; i < me->led.nsps; i++) {
		const struct sendpay *sp = &me->led.sps[i];
		bool upd = index && !strcmp(index, "updated");
		if (bolt11 && (!sp->bolt11 || strcmp(bolt11, sp->bolt11)))
			continue;
		if (has_hash && memcmp(hash, sp->hash, 32))
			continue;
		if (status && strcmp(status, sp_status_name(sp->status)))
			continue;
		if (upd ? (!sp->updated_index || sp->updated_index < start)
			: sp->id < start)
			continue;
		v[nv++] = sp;
	}
	if (index && !strcmp(index, "updated"))
		qsort(v, nv, sizeof(*v), cmp_updated_sp);
	arr = json_array();
	for (size_t i = 0; i < nv && i < limit; i++)
		json_array_append_new(arr, notify_sendpay_json(net, v[i]));
	free(v);
	lnd_req_ok(req, json_pack("{s:o}", "payments", arr));
}

/* ---------- listforwards ---------- */

/* Whether @f passes listforwards' status and channel filters. */
static bool fwd_listed(const struct net *net, const struct fwd *f,
		       const char *status, const char *in, const char *out)
{
	if (status && strcmp(status, fwd_status_name(f->status)))
		return false;
	if (in && strcmp(in, net->chans[f->in_chan].scid))
		return false;
	return !out || (f->out_chan != FWD_NO_CHANNEL &&
			!strcmp(out, net->chans[f->out_chan].scid));
}

static void m_listforwards(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {
	    "status", "in_channel", "out_channel", "index",
	    "start",  "limit",	    NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	const char *status = meth_param_str(params, 0, "status");
	const char *in, *out, *index;
	uint64_t start, limit;
	const struct fwd **v;
	size_t nv = 0;
	json_t *arr;

	if (!meth_check_names(req, params, names) ||
	    !meth_scid(req, params, 1, "in_channel", false, &in) ||
	    !meth_scid(req, params, 2, "out_channel", false, &out) ||
	    !meth_pagination(req, params, 3, &index, &start, &limit))
		return;
	if (meth_param(params, 0, "status") &&
	    (!status ||
	     (strcmp(status, "offered") && strcmp(status, "settled") &&
	      strcmp(status, "failed") && strcmp(status, "local_failed")))) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "status: Unrecognized status");
		return;
	}
	if ((in || out) && start) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Cannot use start with in_channel or out_channel");
		return;
	}
	/* Pages start where their index says, without a scan of the whole
	 * record (plugins page through it after every forward). */
	v = xzalloc(sizeof(*v) * (me->fwds.n + 1));
	if (index && !strcmp(index, "updated")) {
		for (size_t k = fwdlog_updates_from(&me->fwds, start);
		     k < me->fwds.nupdates && nv < limit; k++) {
			const struct fwd *f = fwdlog_update_at(&me->fwds, k);
			if (f && fwd_listed(net, f, status, in, out))
				v[nv++] = f;
		}
	} else {
		for (size_t i = start ? start - 1 : 0;
		     i < me->fwds.n && nv < limit; i++)
			if (fwd_listed(net, &me->fwds.v[i], status, in, out))
				v[nv++] = &me->fwds.v[i];
	}
	arr = json_array();
	for (size_t i = 0; i < nv; i++)
		json_array_append_new(arr, notify_fwd_json(net, v[i], false));
	free(v);
	lnd_req_ok(req, json_pack("{s:o}", "forwards", arr));
}

/* ---------- wait ---------- */

static void m_wait(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"subsystem", "indexname",
					    "nextvalue", NULL};
	const char *sub = meth_param_str(params, 0, "subsystem");
	const char *idx = meth_param_str(params, 1, "indexname");
	uint64_t next = 0;
	enum wait_subsys s;
	enum wait_index i;

	if (!meth_check_names(req, params, names))
		return;
	if (!sub || !wait_subsys_parse(sub, &s)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     sub ? "subsystem: unknown subsystem"
				 : "missing required parameter: subsystem");
		return;
	}
	if (!idx || !wait_index_parse(idx, &i)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     idx ? "indexname: unknown index"
				 : "missing required parameter: indexname");
		return;
	}
	if (!meth_u64(req, params, 2, "nextvalue", true, &next, NULL))
		return;
	wait_request(req, s, i, next);
}

const struct lnd_method meth_pay[] = {
    {"sendpay", m_sendpay,
     "route payment_hash [label] [amount_msat] [bolt11] [payment_secret] "
     "[partid] [localinvreqid] [groupid] [payment_metadata] "
     "[description]",
     "Send a payment along a route."},
    {"waitsendpay", m_waitsendpay, "payment_hash [timeout] [partid] [groupid]",
     "Wait for a payment to resolve."},
    {"listsendpays", m_listsendpays,
     "[bolt11] [payment_hash] [status] [index] [start] [limit]",
     "Show payments sent."},
    {"listforwards", m_listforwards,
     "[status] [in_channel] [out_channel] [index] [start] [limit]",
     "Show forwarded HTLCs."},
    {"wait", m_wait, "subsystem indexname nextvalue",
     "Wait until an index reaches a value."},
};
const size_t meth_pay_n = ARRAY_SIZE(meth_pay);
