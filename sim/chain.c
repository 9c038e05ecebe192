/* Fee estimates, funding, closing and blocks; see chain.h. */
#include "sim/chain.h"
#include "common/amount.h"
#include "common/util.h"
#include "common/wire.h"
#include "sim/net.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

uint32_t chain_estimate_perkw(const struct net *net, uint32_t blocks,
			      bool smoothed)
{
	uint64_t f =
	    smoothed ? net->feerate_smoothed_perkw : net->feerate_perkw;
	uint64_t r;

	/* The mempool feerate is the 6-block estimate; sooner costs more,
	 * later less, in the ratios estimatesmartfee typically shows. */
	if (blocks <= 2)
		r = f * 5 / 4;
	else if (blocks <= 6)
		r = f;
	else if (blocks <= 12)
		r = f * 4 / 5;
	else
		r = f / 2;
	if (r < CHAIN_FEERATE_FLOOR_PERKW)
		r = CHAIN_FEERATE_FLOOR_PERKW;
	return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

uint32_t chain_rate_perkw(const struct net *net, enum chain_rate r)
{
	uint32_t v;

	/* Block targets as lightningd's conversion table has them. */
	switch (r) {
	case RATE_OPENING:
	case RATE_SPLICE:
	case RATE_NORMAL:
		return chain_estimate_perkw(net, 12, false);
	case RATE_MUTUAL_CLOSE:
		return chain_estimate_perkw(net, 100, true);
	case RATE_UNILATERAL:
		return chain_estimate_perkw(net, 6, true);
	case RATE_UNILATERAL_ANCHOR:
		/* Anchors can CPFP: lowball, but at least 5 sat/vB. */
		v = chain_estimate_perkw(net, 100, false);
		return v < 1250 ? 1250 : v;
	case RATE_PENALTY:
		return chain_estimate_perkw(net, 12, true);
	case RATE_URGENT:
		return chain_estimate_perkw(net, 6, false);
	case RATE_SLOW:
		return chain_estimate_perkw(net, 100, false);
	case RATE_MIN_ACCEPTABLE:
		v = chain_estimate_perkw(net, 100, false) / 2;
		return v < CHAIN_FEERATE_FLOOR_PERKW ? CHAIN_FEERATE_FLOOR_PERKW
						     : v;
	case RATE_MAX_ACCEPTABLE:
		/* max-fee-multiplier 10 times the highest estimate. */
		return chain_estimate_perkw(net, 2, false) * 10;
	}
	return chain_estimate_perkw(net, 6, false);
}

bool chain_parse_feerate(const struct net *net, const json_t *v,
			 uint32_t *perkw)
{
	static const struct {
		const char *name;
		enum chain_rate r;
	} names[] = {
	    {"urgent", RATE_URGENT},
	    {"normal", RATE_NORMAL},
	    {"slow", RATE_SLOW},
	    {"minimum", RATE_MIN_ACCEPTABLE},
	    {"opening", RATE_OPENING},
	    {"mutual_close", RATE_MUTUAL_CLOSE},
	    {"unilateral_close", RATE_UNILATERAL},
	    {"penalty", RATE_PENALTY},
	    {"min_acceptable", RATE_MIN_ACCEPTABLE},
	    {"max_acceptable", RATE_MAX_ACCEPTABLE},
	};
	unsigned long long n;
	const char *s;
	char *num;
	bool kw = false, ok;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		n = (unsigned long long)json_integer_value(v);
		goto perkb;
	}
	s = json_string_value(v);
	if (!s)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i].name)) {
			*perkw = chain_rate_perkw(net, names[i].r);
			return true;
		}
	}
	if (str_ends_with(s, "perkw"))
		kw = true;
	num =
	    xstrndup(s, strlen(s) - (kw || str_ends_with(s, "perkb") ? 5 : 0));
	ok = str_to_u64(num, &n);
	free(num);
	if (!ok || n > UINT32_MAX)
		return false;
	if (kw) {
		*perkw = (uint32_t)n;
		return true;
	}
perkb:
	/* 1 vbyte = 4 weight units: perkb / 4 = perkw. */
	if (n / 4 > UINT32_MAX)
		return false;
	*perkw = (uint32_t)(n / 4);
	return true;
}

uint64_t chain_fee_sat(uint32_t perkw, uint64_t weight)
{
	return (uint64_t)perkw * weight / 1000;
}

void chain_hash_hex(const struct net *net, const char *tag, uint64_t n,
		    char out[65])
{
	crypto_hash_sha256_state st;
	uint8_t h[32], buf[16];
	char *hex;

	for (int i = 0; i < 8; i++) {
		buf[i] = (uint8_t)(net->seed >> (8 * i));
		buf[8 + i] = (uint8_t)(n >> (8 * i));
	}
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)tag, strlen(tag));
	crypto_hash_sha256_update(&st, buf, sizeof(buf));
	crypto_hash_sha256_final(&st, h);
	hex = hex_encode(h, 32);
	memcpy(out, hex, 65);
	free(hex);
}

static void sync_onchain(struct net_node *n)
{
	n->onchain_sat = ledger_unspent_sat(&n->led);
}

static bool spendable(const struct net *net, const struct utxo *u)
{
	return !u->spent && u->conf_height && u->conf_height <= net->height;
}

enum fund_err chain_fund_channel(struct net *net, const struct fund_req *r,
				 uint32_t *chan, char **err)
{
	struct net_node *me = &net->nodes[r->node];
	struct net_channel *ch;
	uint64_t have = 0, fee = 0, amount = r->amount_sat, change = 0;
	size_t nin = 0;
	uint32_t height = net->height;

	*err = NULL;
	if (r->node == r->peer) {
		*err = xstrdup("Cannot open a channel with yourself");
		return FUND_ERR_PARAM;
	}
	if (!net->nodes[r->peer].connected) {
		*err = xfmt("Peer %s not connected",
			    net->nodes[r->peer].key.id_hex);
		return FUND_ERR_PEER;
	}
	/* Select confirmed outputs oldest first until amount + fee is
	 * covered (or all of them for "all"). */
	for (size_t i = 0; i < me->led.nutxos; i++) {
		const struct utxo *u = &me->led.utxos[i];
		if (!spendable(net, u))
			continue;
		have += u->amount_sat;
		nin++;
		fee = chain_fee_sat(r->feerate_perkw,
				    CHAIN_FUNDING_WEIGHT +
					(nin - 1) * CHAIN_EXTRA_INPUT_WEIGHT);
		if (!r->all && have >= amount + fee)
			break;
	}
	if (r->all) {
		amount = have > fee ? have - fee : 0;
	} else if (have < amount + fee) {
		*err = xfmt("Could not afford %llusat using all %zu available "
			    "UTXOs: %llusat short",
			    (unsigned long long)amount, nin,
			    (unsigned long long)(amount + fee - have));
		return FUND_ERR_AFFORD;
	}
	if (amount < 20000) {
		*err = xfmt("%llusat is below the minimum channel size of "
			    "20000sat",
			    (unsigned long long)amount);
		return amount == 0 && r->all ? FUND_ERR_AFFORD : FUND_ERR_DUST;
	}
	if (r->push_msat > amount * 1000) {
		*err = xstrdup("push_msat exceeds the channel amount");
		return FUND_ERR_PARAM;
	}
	change = have - amount - fee;
	if (change < CHAIN_DUST_SAT) {
		/* Dust change goes to the miners. */
		fee += change;
		change = 0;
	}
	ch = net_add_channel(net, r->node, r->peer, amount,
			     amount * 1000 - r->push_msat, r->node, height + 1,
			     err);
	if (!ch)
		return FUND_ERR_PARAM;
	/* Spend what was selected (the same walk, now for real). */
	nin = 0;
	for (size_t i = 0, got = 0; i < me->led.nutxos && got < have; i++) {
		struct utxo *u = &me->led.utxos[i];
		if (!spendable(net, u))
			continue;
		got += u->amount_sat;
		u->spent = true;
	}
	if (change)
		ledger_add_utxo(&me->led, ch->funding_txid, 1, change,
				height + 1);
	sync_onchain(me);
	me->onchain_fees_paid_sat += fee;
	ch->funding_fee_sat = fee;
	ch->push_msat = r->push_msat;
	ch->private_chan = !r->announce;
	ch->funding_confirms =
	    r->mindepth ? r->mindepth : net->funding_confirms;
	ch->opened_sec = net->now_sec;
	ch->cln_state = CLN_NONE;
	for (int d = 0; d < 2; d++) {
		ch->pol[d].last_update_sec = net->now_sec;
		ch->pol[d].seen_update_sec = net->now_sec;
	}
	net_channel_change(net, ch, CLN_AWAITING_LOCKIN, ch->opener, CAUSE_USER,
			   "new channel opened");
	*chan = ch->idx;
	return FUND_OK;
}

static bool htlcs_in_flight(const struct net_channel *ch)
{
	return ch->htlcs_out[0] || ch->htlcs_out[1];
}

/* Shutdown is done: negotiate and broadcast the closing tx. */
static void broadcast_close(struct net *net, struct net_channel *ch)
{
	net_channel_change(net, ch, CLN_SIGEXCHANGE, -1, CAUSE_UNKNOWN,
			   "Start closingd");
	chain_hash_hex(net, "hive-sim-close", ch->idx, ch->close_txid);
	ch->close_height = net->height + 1;
	net_channel_change(net, ch, CLN_CLOSING_COMPLETE, -1, CAUSE_UNKNOWN,
			   "Closing complete");
}

bool chain_close_channel(struct net *net, uint32_t chan, uint32_t closer,
			 uint32_t feerate_perkw, char **err)
{
	struct net_channel *ch = &net->chans[chan];
	int side = net_channel_side(ch, closer);
	struct chan_change *c;

	*err = NULL;
	if (side < 0) {
		*err = xstrdup("Not our channel");
		return false;
	}
	if (ch->cln_state != CLN_NORMAL &&
	    ch->cln_state != CLN_AWAITING_LOCKIN) {
		*err = xfmt("Channel is in state %s",
			    cln_state_name(ch->cln_state));
		return false;
	}
	ch->closer = side;
	ch->close_cause = CAUSE_USER;
	ch->close_fee_sat =
	    chain_fee_sat(feerate_perkw, CHAIN_MUTUAL_CLOSE_WEIGHT);
	c = net_channel_change(net, ch, CLN_SHUTTING_DOWN, side, CAUSE_USER,
			       "User or plugin invoked close command");
	c->peer_message = "Peer closes channel";
	if (!htlcs_in_flight(ch))
		broadcast_close(net, ch);
	return true;
}

/* The closing tx is in a block: pay each side its balance. */
static void settle_close(struct net *net, struct net_channel *ch)
{
	uint64_t fee = ch->close_fee_sat;

	for (int d = 0; d < 2; d++) {
		struct net_node *n = &net->nodes[ch->node[d]];
		uint64_t sat = ch->balance_msat[d] / 1000;
		if (d == ch->opener) {
			/* The opener pays the closing fee (BOLT 2). */
			if (fee > sat)
				fee = sat;
			sat -= fee;
			n->onchain_fees_paid_sat += fee;
		}
		if (sat >= CHAIN_DUST_SAT)
			ledger_add_utxo(&n->led, ch->close_txid, (uint32_t)d,
					sat, net->height);
		sync_onchain(n);
	}
	ch->close_fee_sat = fee;
}

void chain_new_block(struct net *net,
		     void (*changed)(void *arg, uint32_t chan,
				     const struct chan_change *c),
		     void *arg)
{
	uint64_t s = net->feerate_smoothed_perkw;

	net->height++;
	/* Smoothing: an eighth of the way per block. */
	s = (s * 7 + net->feerate_perkw) / 8;
	if (s == net->feerate_smoothed_perkw && s != net->feerate_perkw)
		s += net->feerate_perkw > s ? 1 : -1;
	net->feerate_smoothed_perkw = (uint32_t)s;

	for (size_t i = 0; i < net->nchans; i++) {
		struct net_channel *ch = &net->chans[i];
		size_t before = ch->nchanges;

		switch (ch->cln_state) {
		case CLN_AWAITING_LOCKIN:
			if (net->height + 1 >=
			    ch->open_height + ch->funding_confirms)
				net_channel_change(net, ch, CLN_NORMAL, -1,
						   CAUSE_UNKNOWN,
						   "Lockin complete");
			break;
		case CLN_SHUTTING_DOWN:
			if (!htlcs_in_flight(ch))
				broadcast_close(net, ch);
			break;
		case CLN_CLOSING_COMPLETE:
			if (net->height < ch->close_height)
				break;
			net_channel_change(net, ch, CLN_FUNDING_SPEND_SEEN, -1,
					   CAUSE_UNKNOWN,
					   "Onchain funding spend");
			net_channel_change(net, ch, CLN_ONCHAIN, -1,
					   CAUSE_UNKNOWN, "Onchain init reply");
			ch->closed_sec = net->now_sec;
			ch->forget_height =
			    net->height + net->onchain_forget_blocks;
			settle_close(net, ch);
			break;
		case CLN_ONCHAIN:
			if (net->height >= ch->forget_height)
				net_channel_change(net, ch, CLN_CLOSED, -1,
						   CAUSE_UNKNOWN, NULL);
			break;
		case CLN_NONE:
		case CLN_NORMAL:
		case CLN_SIGEXCHANGE:
		case CLN_FUNDING_SPEND_SEEN:
		case CLN_CLOSED:
			break;
		}
		for (size_t k = before; changed && k < ch->nchanges; k++)
			changed(arg, ch->idx, &ch->changes[k]);
	}
}
