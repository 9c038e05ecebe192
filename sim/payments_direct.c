/* Forwarding records and HTLC mechanics shared by every payment, and the
 * fleet's own payments (plugins' `sendpay`, `getroute`) resolved at once
 * (sim/payments.h). */
#include "common/amount.h"
#include "common/util.h"
#include "sim/fwdlog.h"
#include "sim/net.h"
#include "sim/payments_internal.h"
#include <stdlib.h>
#include <string.h>

/* ---- forwarding records ------------------------------------------------- */

static void fwd_hook(struct payments *p, uint32_t node, const struct fwd *f)
{
	if (p->hooks.forward_event)
		p->hooks.forward_event(p->hooks_arg, node, f);
}

/* A fleet node received an HTLC asking to be forwarded: record it as
 * lightningd does. Returns its created_index (0 for non-fleet nodes). */
uint64_t pay_fwd_open(struct payments *p, uint32_t node, uint32_t in_chan,
			 uint32_t out_chan, uint64_t in_msat, uint64_t out_msat,
			 enum fwd_status status, uint16_t failcode,
			 uint64_t now_ms, const uint8_t hash[32])
{
	struct net_node *n = &p->net->nodes[node];
	struct fwd f, *added;

	if (!n->fleet)
		return 0;
	memset(&f, 0, sizeof(f));
	f.in_chan = in_chan;
	f.out_chan = out_chan;
	f.in_htlc_id = n->fwds.next_htlc_id++;
	/* local_failed: no HTLC went out. */
	f.out_htlc_id = status == FWD_LOCAL_FAILED ? 0 : n->fwds.next_htlc_id++;
	f.in_msat = in_msat;
	f.out_msat = out_msat;
	f.fee_msat = in_msat >= out_msat ? in_msat - out_msat : 0;
	f.status = status;
	f.failcode = failcode;
	f.received_ms = now_ms;
	f.resolved_ms = status == FWD_OFFERED ? 0 : now_ms;
	memcpy(f.payment_hash, hash, 32);
	/* A local failure is stored once, already final (updated_index
	 * stays 0, as lightningd inserts it). */
	added = fwdlog_add(&n->fwds, &f);
	fwd_hook(p, node, added);
	return added->created_index;
}

void pay_fwd_close(struct payments *p, uint32_t node, uint64_t ci,
		      enum fwd_status status, uint64_t now_ms)
{
	struct fwd *f;

	if (!ci)
		return;
	f = fwdlog_resolve(&p->net->nodes[node].fwds, ci, status, now_ms);
	if (f)
		fwd_hook(p, node, f);
}

static const char *failcode_name(uint16_t code)
{
	switch (code) {
	case WIRE_TEMPORARY_CHANNEL_FAILURE:
		return "WIRE_TEMPORARY_CHANNEL_FAILURE";
	case WIRE_UNKNOWN_NEXT_PEER:
		return "WIRE_UNKNOWN_NEXT_PEER";
	case WIRE_AMOUNT_BELOW_MINIMUM:
		return "WIRE_AMOUNT_BELOW_MINIMUM";
	case WIRE_FEE_INSUFFICIENT:
		return "WIRE_FEE_INSUFFICIENT";
	case WIRE_CHANNEL_DISABLED:
		return "WIRE_CHANNEL_DISABLED";
	case WIRE_MPP_TIMEOUT:
		return "WIRE_MPP_TIMEOUT";
	}
	return "WIRE_UNKNOWN";
}

/* ---- HTLC mechanics ----------------------------------------------------- */

/* Whether side @s of @ch can offer an HTLC of @amt now; for a forward
 * (@has_in) also whether @amt_in pays the node's fee. 0 or a failcode,
 * in the order lightningd checks: the channel, the fee, the policy
 * limits, then what channeld can add (slots, balance above reserve). */
uint16_t pay_htlc_check(const struct payments *p,
			   const struct net_channel *ch, int s, uint64_t amt,
			   bool has_in, uint64_t amt_in)
{
	const struct net *net = p->net;
	const struct chan_policy *pol = &ch->pol[s];
	uint64_t need;

	if (ch->state != CHAN_NORMAL)
		return WIRE_UNKNOWN_NEXT_PEER;
	if (!net->nodes[ch->node[0]].connected ||
	    !net->nodes[ch->node[1]].connected)
		return WIRE_TEMPORARY_CHANNEL_FAILURE;
	if (has_in) {
		uint64_t fee, paid = amt_in >= amt ? amt_in - amt : 0;
		if (!pol->enabled)
			return WIRE_CHANNEL_DISABLED;
		if (amt_in < amt || !amount_fee_msat(&fee, amt, pol->base_msat,
						     pol->ppm))
			return WIRE_FEE_INSUFFICIENT;
		if (paid < fee) {
			/* CLN still takes the previous fee for
			 * enforcedelay after a change. */
			uint64_t old;
			bool grace = pol->has_prev &&
				     net->now_sec < pol->last_update_sec +
							    p->cfg.fee_grace_sec &&
				     amount_fee_msat(&old, amt,
						     pol->prev_base_msat,
						     pol->prev_ppm) &&
				     paid >= old;
			if (!grace)
				return WIRE_FEE_INSUFFICIENT;
		}
		if (amt < pol->htlc_min_msat)
			return WIRE_AMOUNT_BELOW_MINIMUM;
		if (amt > pol->htlc_max_msat)
			return WIRE_TEMPORARY_CHANNEL_FAILURE;
	}
	if (ch->htlcs_out[s] >= ch->max_htlcs[1 - s])
		return WIRE_TEMPORARY_CHANNEL_FAILURE;
	if (!amount_msat_add(&need, amt, ch->htlc_out_msat[s]) ||
	    !amount_msat_add(&need, need, route_reserve_msat(ch->capacity_sat)) ||
	    ch->balance_msat[s] < need)
		return WIRE_TEMPORARY_CHANNEL_FAILURE;
	return 0;
}

void pay_htlc_lock(struct net_channel *ch, int s, uint64_t amt)
{
	ch->htlcs_out[s]++;
	ch->htlc_out_msat[s] += amt;
	ch->out_payments_offered[s]++;
	ch->out_offered_msat[s] += amt;
	ch->in_payments_offered[1 - s]++;
	ch->in_offered_msat[1 - s] += amt;
}

void pay_htlc_unlock(struct net_channel *ch, int s, uint64_t amt)
{
	ch->htlcs_out[s]--;
	ch->htlc_out_msat[s] -= amt;
}

/* The HTLC settles: its amount moves to the other side. */
void pay_htlc_settle(struct net_channel *ch, int s, uint64_t amt)
{
	pay_htlc_unlock(ch, s, amt);
	if (!amount_msat_sub(&ch->balance_msat[s], ch->balance_msat[s], amt) ||
	    !amount_msat_add(&ch->balance_msat[1 - s], ch->balance_msat[1 - s],
			     amt))
		abort(); /* pay_htlc_check guaranteed the balance */
	ch->out_payments_fulfilled[s]++;
	ch->out_fulfilled_msat[s] += amt;
	ch->in_payments_fulfilled[1 - s]++;
	ch->in_fulfilled_msat[1 - s] += amt;
}

/* Credit the node on side @s of @out for forwarding @in_msat into
 * @out_msat over it. */
void pay_credit_forward(struct net *net, struct net_channel *out, int s,
			   uint64_t in_msat, uint64_t out_msat)
{
	struct net_node *n = &net->nodes[out->node[s]];
	uint64_t fee, t;

	if (amount_msat_sub(&fee, in_msat, out_msat)) {
		if (amount_msat_add(&t, n->fees_earned_msat, fee))
			n->fees_earned_msat = t;
		if (amount_msat_add(&t, out->fee_out_msat[s], fee))
			out->fee_out_msat[s] = t;
	}
	n->forwarded_msat += out_msat;
	n->forwards_settled++;
}

/* ---- the fleet's own payments ------------------------------------------- */

bool payments_sendpay_now(struct payments *p, uint32_t payer,
			  const struct pay_hop *hops, size_t nhops,
			  const uint8_t payment_hash[32],
			  struct sendpay_result *res, char **err)
{
	struct net *net = p->net;
	uint64_t now_ms = net->now_sec * 1000 > p->now_ms ? net->now_sec * 1000
							  : p->now_ms;
	uint8_t side[ROUTE_MAX_HOPS];
	uint64_t ci[ROUTE_MAX_HOPS];
	uint32_t at = payer;
	size_t k;
	uint16_t code = 0;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	if (payer >= net->nnodes) {
		*err = xfmt("unknown payer node %u", payer);
		return false;
	}
	if (!nhops || nhops > ROUTE_MAX_HOPS) {
		*err = xfmt("route must have 1 to %d hops, not %zu",
			    ROUTE_MAX_HOPS, nhops);
		return false;
	}
	for (size_t i = 0; i < nhops; i++) {
		const struct net_channel *ch;
		int s;
		if (hops[i].chan >= net->nchans) {
			*err = xfmt("hop %zu: unknown channel", i);
			return false;
		}
		ch = &net->chans[hops[i].chan];
		s = net_channel_side(ch, at);
		if (s < 0 || ch->node[1 - s] != hops[i].to_node) {
			*err = xfmt("hop %zu: channel %s does not connect "
				    "%s to %s",
				    i, ch->scid, net->nodes[at].alias,
				    hops[i].to_node < net->nnodes
					    ? net->nodes[hops[i].to_node].alias
					    : "?");
			return false;
		}
		if (!hops[i].amount_msat) {
			*err = xfmt("hop %zu: zero amount", i);
			return false;
		}
		side[i] = (uint8_t)s;
		at = hops[i].to_node;
	}

	/* Offer hop by hop; the first refusal fails the whole route. */
	for (k = 0; k < nhops; k++) {
		struct net_channel *ch = &net->chans[hops[k].chan];
		code = pay_htlc_check(p, ch, side[k], hops[k].amount_msat, k > 0,
				  k > 0 ? hops[k - 1].amount_msat : 0);
		if (code)
			break;
		pay_htlc_lock(ch, side[k], hops[k].amount_msat);
		ci[k] = k > 0 ? pay_fwd_open(p, ch->node[side[k]], hops[k - 1].chan,
					 hops[k].chan, hops[k - 1].amount_msat,
					 hops[k].amount_msat, FWD_OFFERED, 0,
					 now_ms, payment_hash)
			      : 0;
	}
	if (code) {
		struct net_channel *ch = &net->chans[hops[k].chan];
		uint32_t node = ch->node[side[k]];
		if (k > 0) {
			pay_fwd_open(p, node, hops[k - 1].chan, hops[k].chan,
				 hops[k - 1].amount_msat, hops[k].amount_msat,
				 FWD_LOCAL_FAILED, code, now_ms, payment_hash);
			net->nodes[node].forwards_local_failed++;
		}
		for (size_t j = 0; j < k; j++) {
			struct net_channel *cj = &net->chans[hops[j].chan];
			pay_htlc_unlock(cj, side[j], hops[j].amount_msat);
			if (j > 0) {
				uint32_t fn = cj->node[side[j]];
				net->nodes[fn].forwards_failed++;
				pay_fwd_close(p, fn, ci[j], FWD_FAILED, now_ms);
			}
		}
		res->status = SENDPAY_FAILED;
		res->erring_index = k;
		res->erring_chan = hops[k].chan;
		res->erring_node = node;
		res->erring_direction = side[k];
		res->failcode = code;
		res->failcodename = failcode_name(code);
		return true;
	}
	for (k = 0; k < nhops; k++) {
		struct net_channel *ch = &net->chans[hops[k].chan];
		pay_htlc_settle(ch, side[k], hops[k].amount_msat);
		if (k > 0) {
			uint32_t node = ch->node[side[k]];
			pay_credit_forward(net, ch, side[k],
				       hops[k - 1].amount_msat,
				       hops[k].amount_msat);
			pay_fwd_close(p, node, ci[k], FWD_SETTLED, now_ms);
		}
	}
	res->status = SENDPAY_COMPLETE;
	res->fee_msat = hops[0].amount_msat > hops[nhops - 1].amount_msat
				? hops[0].amount_msat - hops[nhops - 1].amount_msat
				: 0;
	if (hops[nhops - 1].to_node == payer) {
		uint64_t t;
		if (amount_msat_add(&t, net->nodes[payer].rebalance_fees_paid_msat,
				    res->fee_msat))
			net->nodes[payer].rebalance_fees_paid_msat = t;
	}
	return true;
}

size_t payments_getroute(struct payments *p, uint32_t from, uint32_t to,
			 uint64_t amount_msat, double riskfactor,
			 const uint32_t *exclude, size_t nexclude,
			 struct pay_hop *hops)
{
	struct route_excl *ex = xmalloc(sizeof(*ex) * (2 * nexclude + 1));
	struct route_hop rh[ROUTE_MAX_HOPS];
	struct route_query q = {
		.source = from,
		.target = to,
		.amount_msat = amount_msat,
		.kind = SENDER_GETROUTE,
		.fee_cap_msat = UINT64_MAX,
		.riskfactor = riskfactor,
		.now_ms = p->now_ms,
		.excl = ex,
		.nexcl = 2 * nexclude,
		.final_cltv = 9,
	};
	uint64_t fee;
	size_t n;

	for (size_t i = 0; i < nexclude; i++) {
		ex[2 * i] = (struct route_excl){route_edge(exclude[i], 0), 0};
		ex[2 * i + 1] = (struct route_excl){route_edge(exclude[i], 1), 0};
	}
	n = router_find(p->router, &q, rh, &fee);
	free(ex);
	for (size_t i = 0; i < n; i++)
		hops[i] = (struct pay_hop){
			.chan = rh[i].chan,
			.to_node = rh[i].to_node,
			.amount_msat = rh[i].amount_msat,
			.delay = rh[i].cltv,
		};
	return n;
}
