/* What comes before a payment, as the fake lightningd answers it:
 * invoice (a fleet node's invoice, which a sendpay for its hash settles:
 * see methods_pay.c) and getroute (a route by the payer's gossip view,
 * from the payment engine). */
#include "common/amount.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/util.h"
#include "common/wire.h"
#include "sim/methods.h"
#include "sim/net.h"
#include "sim/notify.h"
#include "sim/payments.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	crypto_hash_sha256(out, p, n);
}

/* ---------- invoice ---------- */

/* A BOLT 11-looking string: the regtest prefix, the amount in the
 * multiplier notation, then bech32 characters from the payment hash and
 * secret. It is not decodable; nothing here decodes it. */
static char *fake_bolt11(const struct invoice *inv)
{
	static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	char amount[32] = "", data[241];
	uint8_t h[32], seed[64];
	char *out;

	if (!inv->any_amount) {
		if (inv->amount_msat % 100000000 == 0)
			snprintf(
			    amount, sizeof(amount), "%llum",
			    (unsigned long long)(inv->amount_msat / 100000000));
		else if (inv->amount_msat % 100000 == 0)
			snprintf(
			    amount, sizeof(amount), "%lluu",
			    (unsigned long long)(inv->amount_msat / 100000));
		else if (inv->amount_msat % 100 == 0)
			snprintf(amount, sizeof(amount), "%llun",
				 (unsigned long long)(inv->amount_msat / 100));
		else
			snprintf(amount, sizeof(amount), "%llup",
				 (unsigned long long)(inv->amount_msat * 10));
	}
	memcpy(seed, inv->hash, 32);
	memcpy(seed + 32, inv->secret, 32);
	for (size_t i = 0; i + 1 < sizeof(data); i++) {
		if (i % 32 == 0) {
			sha256(seed, sizeof(seed), h);
			memcpy(seed, h, 32);
		}
		data[i] = charset[h[i % 32] % 32];
	}
	data[sizeof(data) - 1] = '\0';
	out = xfmt("lnbcrt%s1p%s", amount, data);
	return out;
}

static void m_invoice(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {
	    "amount_msat",  "label",	"description",		 "expiry",
	    "fallbacks",    "preimage", "exposeprivatechannels", "cltv",
	    "deschashonly", NULL};
	struct lnd *lnd = lnd_req_node(req);
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	const json_t *jamt = meth_param(params, 0, "amount_msat");
	const json_t *jlabel = meth_param(params, 1, "label");
	const char *desc = meth_param_str(params, 2, "description");
	uint64_t amount = 0, expiry = 604800, receivable = 0;
	uint8_t preimage[32];
	bool any = false, has_pre;
	char *label, *hex;
	struct invoice *inv;
	json_t *res;

	if (!meth_check_names(req, params, names) ||
	    !meth_u64(req, params, 3, "expiry", false, &expiry, NULL) ||
	    !meth_hash(req, params, 5, "preimage", false, preimage, &has_pre))
		return;
	if (!jamt || !jlabel || !desc) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: %s",
			     !jamt     ? "amount_msat"
			     : !jlabel ? "label"
				       : "description");
		return;
	}
	if (json_is_string(jamt) && !strcmp(json_string_value(jamt), "any"))
		any = true;
	else if (!meth_amount_value(jamt, &amount) || amount == 0 ||
		 amount > AMOUNT_MSAT_MAX) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "amount_msat: should be positive msat or 'any'");
		return;
	}
	if (json_is_string(jlabel))
		label = xstrdup(json_string_value(jlabel));
	else if (json_is_integer(jlabel))
		label = xfmt("%lld", (long long)json_integer_value(jlabel));
	else {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "label: should be a string or an integer");
		return;
	}
	if (ledger_invoice_by_label(&me->led, label)) {
		lnd_req_fail(req, CLN_INVOICE_LABEL_ALREADY_EXISTS,
			     "Duplicate label '%s'", label);
		free(label);
		return;
	}
	if (!has_pre) {
		/* Deterministic per node and invoice, so runs replay. */
		uint8_t buf[24];
		memcpy(buf, "hive-sim-preimage", 16);
		for (int i = 0; i < 8; i++)
			buf[16 + i] =
			    (uint8_t)(((net->seed ^ me->idx) +
				       me->led.ninvs * 0x9E3779B9ULL) >>
				      (8 * i));
		sha256(buf, sizeof(buf), preimage);
	}
	for (size_t i = 0; i < me->led.ninvs; i++) {
		if (!memcmp(me->led.invs[i].preimage, preimage, 32)) {
			lnd_req_fail(req, CLN_INVOICE_PREIMAGE_ALREADY_EXISTS,
				     "preimage already used");
			free(label);
			return;
		}
	}
	inv = ledger_add_invoice(&me->led, label, desc);
	free(label);
	memcpy(inv->preimage, preimage, 32);
	sha256(inv->preimage, 32, inv->hash);
	{
		uint8_t buf[64];
		memcpy(buf, "hive-sim-secret.", 16);
		memcpy(buf + 16, inv->preimage, 32);
		memcpy(buf + 48, me->key.secret, 16);
		sha256(buf, sizeof(buf), inv->secret);
	}
	inv->any_amount = any;
	inv->amount_msat = amount;
	inv->created_sec = net->now_sec;
	inv->expires_at = net->now_sec + expiry;
	inv->bolt11 = fake_bolt11(inv);

	hex = hex_encode(inv->hash, 32);
	res =
	    json_pack("{s:s,s:s}", "payment_hash", hex, "bolt11", inv->bolt11);
	free(hex);
	hex = hex_encode(inv->secret, 32);
	json_object_set_new(res, "payment_secret", json_string(hex));
	free(hex);
	json_object_set_new(res, "expires_at",
			    json_integer((json_int_t)inv->expires_at));
	json_object_set_new(res, "created_index",
			    json_integer((json_int_t)inv->created_index));
	for (size_t i = 0; i < me->nchans; i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		int them = 1 - net_channel_side(ch, me->idx);
		if (ch->cln_state == CLN_NORMAL &&
		    net->nodes[ch->node[them]].connected)
			receivable += ch->balance_msat[them];
	}
	if (!any && receivable < amount)
		json_object_set_new(
		    res, "warning_capacity",
		    json_string("Insufficient incoming channel capacity "
				"to pay invoice"));
	notify_invoice_created(lnd, inv);
	lnd_req_ok(req, res);
}

/* ---------- getroute ---------- */

static bool excluded_node(const struct net *net, const json_t *exclude,
			  uint32_t node)
{
	size_t i;
	json_t *v;
	json_array_foreach(exclude, i, v)
	{
		const char *s = json_string_value(v);
		if (s && pubkey_hex_valid(s) &&
		    !strcasecmp(s, net->nodes[node].key.id_hex))
			return true;
	}
	return false;
}

static void m_getroute(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {
	    "id",	   "amount_msat", "riskfactor", "cltv", "fromid",
	    "fuzzpercent", "exclude",	  "maxhops",	NULL};
	struct net *net = meth_net(req);
	struct payments *pay = meth_payments(req);
	const char *id, *fromid;
	const json_t *exclude = meth_param(params, 6, "exclude");
	uint64_t amount = 0, risk = 0, cltv = 9, maxhops = MAX_ROUTE_HOPS,
		 fuzz = 0;
	struct net_node *to, *from;
	struct pay_hop hops[MAX_ROUTE_HOPS];
	uint32_t *ex;
	size_t nex = 0, n;
	json_t *route;

	if (!meth_check_names(req, params, names) ||
	    !meth_pubkey(req, params, 0, "id", true, &id) ||
	    !meth_msat(req, params, 1, "amount_msat", true, &amount, NULL) ||
	    !meth_u64(req, params, 2, "riskfactor", true, &risk, NULL) ||
	    !meth_u64(req, params, 3, "cltv", false, &cltv, NULL) ||
	    !meth_pubkey(req, params, 4, "fromid", false, &fromid) ||
	    !meth_u64(req, params, 5, "fuzzpercent", false, &fuzz, NULL) ||
	    !meth_u64(req, params, 7, "maxhops", false, &maxhops, NULL))
		return;
	if (exclude && !json_is_array(exclude)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "exclude: should be an array");
		return;
	}
	to = net_node_by_id(net, id);
	from = fromid ? net_node_by_id(net, fromid) : meth_self(req);
	if (!pay) {
		lnd_req_fail(req, ERR_LIGHTNINGD, "no payment engine");
		return;
	}
	if (!to || !from) {
		lnd_req_fail(req, CLN_PAY_ROUTE_NOT_FOUND,
			     "Could not find a route");
		return;
	}
	/* Excluded channels (scid or scid/dir; both directions go) and
	 * every channel of an excluded node. */
	ex = xzalloc(sizeof(*ex) * (net->nchans + 1));
	for (size_t i = 0; i < net->nchans; i++) {
		const struct net_channel *ch = &net->chans[i];
		bool out = excluded_node(net, exclude, ch->node[0]) ||
			   excluded_node(net, exclude, ch->node[1]);
		size_t k;
		json_t *v;
		json_array_foreach(exclude, k, v)
		{
			const char *s = json_string_value(v);
			size_t len = s ? strlen(s) : 0;
			if (!s)
				continue;
			if (len > 2 && s[len - 2] == '/')
				len -= 2;
			if (len == strlen(ch->scid) &&
			    !strncmp(s, ch->scid, len))
				out = true;
		}
		if (out)
			ex[nex++] = (uint32_t)i;
	}
	n = payments_getroute(pay, from->idx, to->idx, amount, (double)risk, ex,
			      nex, hops);
	free(ex);
	if (n == 0 || n > maxhops || n > MAX_ROUTE_HOPS) {
		lnd_req_fail(req, CLN_PAY_ROUTE_NOT_FOUND,
			     "Could not find a route");
		return;
	}
	/* Delays as lightningd computes them: the final cltv at the end,
	 * each earlier hop adding the next channel's cltv_expiry_delta. */
	hops[n - 1].delay = (uint32_t)cltv;
	for (size_t i = n - 1; i-- > 0;) {
		const struct net_channel *next = &net->chans[hops[i + 1].chan];
		int side = net_channel_side(next, hops[i].to_node);
		hops[i].delay = hops[i + 1].delay +
				(side >= 0 ? next->pol[side].cltv_delta : 0);
	}
	route = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct net_channel *ch = &net->chans[hops[i].chan];
		uint32_t sender = i ? hops[i - 1].to_node : from->idx;
		json_array_append_new(
		    route,
		    json_pack("{s:s,s:s,s:i,s:I,s:i,s:s}", "id",
			      net->nodes[hops[i].to_node].key.id_hex, "channel",
			      ch->scid, "direction",
			      net_channel_side(ch, sender), "amount_msat",
			      (json_int_t)hops[i].amount_msat, "delay",
			      (int)hops[i].delay, "style", "tlv"));
	}
	lnd_req_ok(req, json_pack("{s:o}", "route", route));
}

const struct lnd_method meth_invoice[] = {
    {"invoice", m_invoice,
     "amount_msat label description [expiry] [fallbacks] [preimage] "
     "[exposeprivatechannels] [cltv] [deschashonly]",
     "Create an invoice."},
    {"getroute", m_getroute,
     "id amount_msat riskfactor [cltv] [fromid] [fuzzpercent] [exclude] "
     "[maxhops]",
     "Find a route by the gossip view."},
};
const size_t meth_invoice_n = ARRAY_SIZE(meth_invoice);
