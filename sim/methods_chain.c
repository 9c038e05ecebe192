/* On-chain methods of the fake lightningd: feerates, listfunds,
 * fundchannel, close, listclosedchannels, connect, and dev-sim-advance
 * (runs the simulation forward under `hive-sim serve`). Funding and
 * closing go through sim/chain.c; every state change they record is told
 * to both ends of the channel (when the peer is a fleet node too). */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/util.h"
#include "common/wire.h"
#include "sim/chain.h"
#include "sim/methods.h"
#include "sim/net.h"
#include "sim/notify.h"
#include <stdio.h>
#include <string.h>

/* htlc_timeout / htlc_success tx weights without anchors. */
#define HTLC_TIMEOUT_WEIGHT 663
#define HTLC_SUCCESS_WEIGHT 703

static struct lnd *node_lnd(struct lnd_req *req, uint32_t node)
{
	void *arg;
	const struct sim_hooks *h = lnd_sim_hooks(lnd_req_node(req), &arg);

	if (node == lnd_node_idx(lnd_req_node(req)))
		return lnd_req_node(req);
	return h && h->node_lnd ? h->node_lnd(arg, node) : NULL;
}

/* Tell both ends about changes [@from, end) of channel @chan. */
static void tell_changes(struct lnd_req *req, uint32_t chan, size_t from)
{
	struct net *net = meth_net(req);

	for (size_t k = from; k < net->chans[chan].nchanges; k++) {
		for (int d = 0; d < 2; d++) {
			struct lnd *l = node_lnd(req, net->chans[chan].node[d]);
			if (l)
				notify_chan_state(l, net, &net->chans[chan],
						  &net->chans[chan].changes[k]);
		}
	}
}

/* ---------- feerates ---------- */

static json_t *rates_json(const struct net *net, bool perkb)
{
	static const struct {
		const char *name;
		enum chain_rate r;
	} named[] = {
	    {"opening", RATE_OPENING},
	    {"mutual_close", RATE_MUTUAL_CLOSE},
	    {"unilateral_close", RATE_UNILATERAL},
	    {"unilateral_anchor_close", RATE_UNILATERAL_ANCHOR},
	    {"penalty", RATE_PENALTY},
	    {"splice", RATE_SPLICE},
	    {"min_acceptable", RATE_MIN_ACCEPTABLE},
	    {"max_acceptable", RATE_MAX_ACCEPTABLE},
	};
	static const uint32_t targets[] = {2, 6, 12, 100};
	uint32_t mul = perkb ? 4 : 1;
	json_t *o = json_object(), *est = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(named); i++)
		json_object_set_new(
		    o, named[i].name,
		    json_integer((json_int_t)chain_rate_perkw(net, named[i].r) *
				 mul));
	json_object_set_new(o, "floor",
			    json_integer(CHAIN_FEERATE_FLOOR_PERKW * mul));
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
		json_array_append_new(
		    est, json_pack("{s:i,s:I,s:I}", "blockcount",
				   (int)targets[i], "feerate",
				   (json_int_t)chain_estimate_perkw(
				       net, targets[i], false) *
				       mul,
				   "smoothed_feerate",
				   (json_int_t)chain_estimate_perkw(
				       net, targets[i], true) *
				       mul));
	json_object_set_new(o, "estimates", est);
	return o;
}

static void m_feerates(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"style", NULL};
	struct net *net = meth_net(req);
	const char *style = meth_param_str(params, 0, "style");
	uint32_t htlc = chain_estimate_perkw(net, 6, true);

	if (!meth_check_names(req, params, names))
		return;
	if (!style || (strcmp(style, "perkw") && strcmp(style, "perkb"))) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     style ? "style: should be 'perkw' or 'perkb'"
				   : "missing required parameter: style");
		return;
	}
	lnd_req_ok(
	    req,
	    json_pack(
		"{s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I}}", style,
		rates_json(net, !strcmp(style, "perkb")),
		"onchain_fee_estimates", "opening_channel_satoshis",
		(json_int_t)chain_fee_sat(chain_rate_perkw(net, RATE_OPENING),
					  CHAIN_FUNDING_WEIGHT),
		"mutual_close_satoshis",
		(json_int_t)chain_fee_sat(
		    chain_rate_perkw(net, RATE_MUTUAL_CLOSE),
		    CHAIN_MUTUAL_CLOSE_WEIGHT),
		"unilateral_close_satoshis",
		(json_int_t)chain_fee_sat(
		    chain_rate_perkw(net, RATE_UNILATERAL_ANCHOR),
		    CHAIN_UNILATERAL_WEIGHT),
		"unilateral_close_nonanchor_satoshis",
		(json_int_t)chain_fee_sat(
		    chain_rate_perkw(net, RATE_UNILATERAL),
		    CHAIN_UNILATERAL_NONANCHOR_WEIGHT),
		"htlc_timeout_satoshis",
		(json_int_t)chain_fee_sat(htlc, HTLC_TIMEOUT_WEIGHT),
		"htlc_success_satoshis",
		(json_int_t)chain_fee_sat(htlc, HTLC_SUCCESS_WEIGHT)));
}

/* ---------- listfunds ---------- */

/* A P2WPKH script and a bech32-looking regtest address for an output
 * (stable per output; not spendable, nobody spends them). */
static void wallet_script(const struct net *net, const struct utxo *u,
			  uint32_t node, char script[45], char addr[64])
{
	static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	char h[65];

	chain_hash_hex(net, "hive-sim-wallet-key", node, h);
	snprintf(script, 45, "0014%.40s", h);
	strcpy(addr, "bcrt1q");
	for (int i = 0; i < 38; i++) {
		unsigned v;
		sscanf(h + i % 62, "%2x", &v);
		addr[6 + i] = charset[(v + (unsigned)i * 7) % 32];
	}
	addr[44] = '\0';
	(void)u;
}

static bool chan_listed(const struct net_channel *ch)
{
	return ch->cln_state != CLN_CLOSED;
}

static void m_listfunds(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"spent", NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	const json_t *jspent = meth_param(params, 0, "spent");
	const json_t *filter = lnd_req_filter(req);
	json_t *outs = json_array(), *chans = json_array();

	if (!meth_check_names(req, params, names)) {
		json_decref(outs);
		json_decref(chans);
		return;
	}
	for (size_t i = 0; i < me->led.nutxos; i++) {
		const struct utxo *u = &me->led.utxos[i];
		bool conf = u->conf_height && u->conf_height <= net->height;
		char script[45], addr[64];
		json_t *o;
		if (u->spent && !json_is_true(jspent))
			continue;
		wallet_script(net, u, me->idx, script, addr);
		o = json_pack("{s:s,s:i,s:I,s:s,s:s,s:s}", "txid", u->txid,
			      "output", (int)u->outnum, "amount_msat",
			      (json_int_t)(u->amount_sat * 1000),
			      "scriptpubkey", script, "address", addr, "status",
			      u->spent ? "spent"
			      : conf   ? "confirmed"
				       : "unconfirmed");
		if (conf && !u->spent)
			json_object_set_new(o, "blockheight",
					    json_integer(u->conf_height));
		json_object_set_new(o, "reserved", json_false());
		json_array_append_new(outs, o);
	}
	/* A node with thousands of channels lists them all: only when the
	 * result filter keeps them. */
	for (size_t i = 0; i < me->nchans && meth_wants(filter, "channels");
	     i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		int us = net_channel_side(ch, me->idx);
		const struct net_node *peer = &net->nodes[ch->node[1 - us]];
		json_t *o;
		if (!chan_listed(ch))
			continue;
		o = json_pack("{s:s,s:b,s:s,s:s,s:I,s:I,s:s,s:i}", "peer_id",
			      peer->key.id_hex, "connected", peer->connected,
			      "state", cln_state_name(ch->cln_state),
			      "channel_id", ch->channel_id, "our_amount_msat",
			      (json_int_t)ch->balance_msat[us], "amount_msat",
			      (json_int_t)(ch->capacity_sat * 1000),
			      "funding_txid", ch->funding_txid,
			      "funding_output", (int)ch->funding_outnum);
		if (net_channel_mined(net, ch))
			json_object_set_new(o, "short_channel_id",
					    json_string(ch->scid));
		json_array_append_new(chans, o);
	}
	lnd_req_ok(req,
		   json_pack("{s:o,s:o}", "outputs", outs, "channels", chans));
}

/* ---------- connect ---------- */

static bool is_connected(const struct net *net, const struct net_node *me,
			 uint32_t peer)
{
	if (!net->nodes[peer].connected)
		return false;
	if (ledger_has_peer(&me->led, peer))
		return true;
	for (size_t i = 0; i < me->nchans; i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		if (chan_listed(ch) && net_channel_peer(ch, me->idx) == peer)
			return true;
	}
	return false;
}

/* Connect @me to @peer (which must be online) if not already: both
 * remember the other, and both fleet ends hear of it. */
static void do_connect(struct lnd_req *req, struct net_node *me, uint32_t peer)
{
	struct net *net = meth_net(req);
	struct lnd *pl;

	if (is_connected(net, me, peer))
		return;
	ledger_add_peer(&me->led, peer);
	ledger_add_peer(&net->nodes[peer].led, me->idx);
	notify_connect(lnd_req_node(req), net, &net->nodes[peer], false);
	pl = node_lnd(req, peer);
	if (pl)
		notify_connect(pl, net, me, true);
}

static void m_connect(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id", "host", "port", NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req), *peer;
	const char *idarg = meth_param_str(params, 0, "id");
	char id[67];

	if (!meth_check_names(req, params, names))
		return;
	if (!idarg) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: id");
		return;
	}
	/* id, id@host or id@host:port: only the id matters here. */
	snprintf(id, sizeof(id), "%.66s", idarg);
	if (!pubkey_hex_valid(id) || (idarg[66] && idarg[66] != '@')) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "id: should be a node id, optionally followed by "
			     "@host[:port]");
		return;
	}
	peer = net_node_by_id(net, id);
	if (peer == me) {
		lnd_req_fail(req, ERR_INVALID_PARAMS, "Connecting to ourself");
		return;
	}
	if (!peer) {
		lnd_req_fail(req, 400,
			     "Unable to connect, no address known "
			     "for peer");
		return;
	}
	if (!peer->connected) {
		lnd_req_fail(req, CLN_CONNECT_ALL_ADDRESSES_FAILED,
			     "All addresses failed: 127.0.0.1:%u: Connection "
			     "refused",
			     9735 + peer->idx);
		return;
	}
	do_connect(req, me, peer->idx);
	lnd_req_ok(req,
		   json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:i}}", "id",
			     peer->key.id_hex, "features", "08a0000a8a5961",
			     "direction", "out", "address", "type", "ipv4",
			     "address", "127.0.0.1", "port",
			     (int)(9735 + peer->idx)));
}

/* ---------- fundchannel ---------- */

/* sat_or_all: integer satoshis, "<n>sat", "<n>000msat", "<x>btc" or
 * "all". */
static bool parse_sat_or_all(const json_t *v, uint64_t *sat, bool *all)
{
	uint64_t msat;

	*all = false;
	if (json_is_string(v) && !strcmp(json_string_value(v), "all")) {
		*all = true;
		return true;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*sat = (uint64_t)json_integer_value(v);
		return true;
	}
	if (json_is_string(v) && !str_ends_with(json_string_value(v), "sat") &&
	    !str_ends_with(json_string_value(v), "btc")) {
		unsigned long long u;
		if (!str_to_u64(json_string_value(v), &u))
			return false;
		*sat = u;
		return true;
	}
	if (!meth_amount_value(v, &msat) || msat % 1000)
		return false;
	*sat = msat / 1000;
	return true;
}

/* A serialized-looking funding tx (version 2, segwit marker, the
 * channel's output): hex only, not a valid transaction. */
static char *fake_tx_hex(const struct net *net, const char *txid,
			 uint64_t amount_sat)
{
	char h[65];
	chain_hash_hex(net, "hive-sim-tx", amount_sat, h);
	return xfmt("02000000000101%s0000000000fdffffff01%016llx220020%s"
		    "00000000",
		    txid, (unsigned long long)amount_sat, h);
}

static void m_fundchannel(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {
	    "id",	    "amount",	   "feerate",
	    "announce",	    "minconf",	   "push_msat",
	    "close_to",	    "request_amt", "compact_lease",
	    "utxos",	    "mindepth",	   "reserve",
	    "channel_type", NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req), *peer;
	const char *id;
	const json_t *jamount = meth_param(params, 1, "amount");
	const json_t *jfee = meth_param(params, 2, "feerate");
	const json_t *jannounce = meth_param(params, 3, "announce");
	struct fund_req fr = {.node = me->idx, .announce = true};
	uint64_t mindepth = 0, push = 0;
	uint32_t chan;
	char *err, *tx;
	enum fund_err fe;
	struct net_channel *ch;

	if (!meth_check_names(req, params, names) ||
	    !meth_pubkey(req, params, 0, "id", true, &id) ||
	    !meth_msat(req, params, 5, "push_msat", false, &push, NULL) ||
	    !meth_u64(req, params, 10, "mindepth", false, &mindepth, NULL))
		return;
	if (!jamount) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: amount");
		return;
	}
	if (!parse_sat_or_all(jamount, &fr.amount_sat, &fr.all)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "amount: should be a satoshi amount or 'all'");
		return;
	}
	fr.feerate_perkw = chain_rate_perkw(net, RATE_OPENING);
	if (jfee && !chain_parse_feerate(net, jfee, &fr.feerate_perkw)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "feerate: should be a feerate");
		return;
	}
	if (jannounce && !json_is_boolean(jannounce)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "announce: should be a boolean");
		return;
	}
	if (jannounce)
		fr.announce = json_is_true(jannounce);
	if (mindepth > 1000) {
		lnd_req_fail(req, ERR_INVALID_PARAMS, "mindepth: too large");
		return;
	}
	fr.mindepth = (uint32_t)mindepth;
	fr.push_msat = push;
	peer = net_node_by_id(net, id);
	if (!peer || peer == me) {
		lnd_req_fail(req, CLN_FUNDING_UNKNOWN_PEER, "Unknown peer %s",
			     id);
		return;
	}
	fr.peer = peer->idx;
	/* multifundchannel connects to the peer first. */
	if (peer->connected)
		do_connect(req, me, peer->idx);
	fe = chain_fund_channel(net, &fr, &chan, &err);
	switch (fe) {
	case FUND_OK:
		break;
	case FUND_ERR_PARAM:
		lnd_req_fail(req, ERR_INVALID_PARAMS, "%s", err);
		free(err);
		return;
	case FUND_ERR_AFFORD:
		lnd_req_fail(req, CLN_FUND_CANNOT_AFFORD, "%s", err);
		free(err);
		return;
	case FUND_ERR_DUST:
		lnd_req_fail(req, CLN_FUND_OUTPUT_IS_DUST, "%s", err);
		free(err);
		return;
	case FUND_ERR_PEER:
		lnd_req_fail(req, CLN_FUNDING_PEER_NOT_CONNECTED, "%s", err);
		free(err);
		return;
	}
	tell_changes(req, chan, 0);
	ch = &net->chans[chan];
	tx = fake_tx_hex(net, ch->funding_txid, ch->capacity_sat);
	lnd_req_ok(req,
		   json_pack("{s:s,s:s,s:i,s:s,s:{s:[i,i],s:[s,s]},s:i}", "tx",
			     tx, "txid", ch->funding_txid, "outnum",
			     (int)ch->funding_outnum, "channel_id",
			     ch->channel_id, "channel_type", "bits", 12, 22,
			     "names", "static_remotekey/even", "anchors/even",
			     "mindepth", (int)ch->funding_confirms));
	free(tx);
}

/* ---------- close ---------- */

static void m_close(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id",
					    "unilateraltimeout",
					    "destination",
					    "fee_negotiation_step",
					    "wrong_funding",
					    "force_lease_closed",
					    "feerange",
					    NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	const char *id = meth_param_str(params, 0, "id");
	const json_t *range = meth_param(params, 6, "feerange");
	struct net_channel *found = NULL;
	uint32_t feerate = chain_rate_perkw(net, RATE_MUTUAL_CLOSE);
	size_t before;
	char *err, *tx;

	if (!meth_check_names(req, params, names))
		return;
	if (!id) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: id");
		return;
	}
	if (range &&
	    (!json_is_array(range) || json_array_size(range) != 2 ||
	     !chain_parse_feerate(net, json_array_get(range, 0), &feerate))) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "feerange: should be an array of two feerates");
		return;
	}
	/* A peer id, a channel id or a short channel id. */
	for (size_t i = 0; i < me->nchans && !found; i++) {
		struct net_channel *ch = &net->chans[me->chans[i]];
		const struct net_node *peer =
		    &net->nodes[net_channel_peer(ch, me->idx)];
		if (!chan_listed(ch))
			continue;
		if (!strcasecmp(id, ch->channel_id) ||
		    (net_channel_mined(net, ch) && !strcmp(id, ch->scid)) ||
		    (!strcasecmp(id, peer->key.id_hex) &&
		     (ch->cln_state == CLN_NORMAL ||
		      ch->cln_state == CLN_AWAITING_LOCKIN)))
			found = ch;
	}
	if (!found) {
		if (pubkey_hex_valid(id))
			lnd_req_fail(req, ERR_LIGHTNINGD,
				     "Peer has no active channel");
		else
			lnd_req_fail(req, ERR_LIGHTNINGD,
				     "Short channel ID not found: '%s'", id);
		return;
	}
	before = found->nchanges;
	if (!chain_close_channel(net, found->idx, me->idx, feerate, &err)) {
		lnd_req_fail(req, ERR_LIGHTNINGD, "%s", err);
		free(err);
		return;
	}
	tell_changes(req, found->idx, before);
	if (!found->close_txid[0])
		/* Still shutting down (HTLCs in flight): the tx it will
		 * broadcast is already determined. */
		chain_hash_hex(net, "hive-sim-close", found->idx,
			       found->close_txid);
	tx = fake_tx_hex(net, found->close_txid, found->capacity_sat);
	lnd_req_ok(req, json_pack("{s:s,s:[s],s:[s]}", "type", "mutual", "txs",
				  tx, "txids", found->close_txid));
	free(tx);
}

/* ---------- listclosedchannels ---------- */

static void m_listclosedchannels(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id", NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	const char *id;
	json_t *arr;

	if (!meth_check_names(req, params, names) ||
	    !meth_pubkey(req, params, 0, "id", false, &id))
		return;
	arr = json_array();
	for (size_t i = 0; i < me->nchans; i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		int us = net_channel_side(ch, me->idx);
		const struct net_node *peer = &net->nodes[ch->node[1 - us]];
		uint64_t fin = ch->balance_msat[us];
		uint64_t lo = ch->min_msat[us] < fin ? ch->min_msat[us] : fin;
		uint64_t hi = ch->max_msat[us] > fin ? ch->max_msat[us] : fin;
		uint64_t htlcs = ch->out_payments_offered[us];
		json_t *o;
		if (ch->cln_state != CLN_CLOSED)
			continue;
		if (id && strcasecmp(id, peer->key.id_hex))
			continue;
		o = json_pack("{s:s,s:s,s:s,s:s}", "peer_id", peer->key.id_hex,
			      "channel_id", ch->channel_id, "short_channel_id",
			      ch->scid, "opener",
			      ch->opener == us ? "local" : "remote");
		if (ch->closer >= 0)
			json_object_set_new(
			    o, "closer",
			    json_string(ch->closer == us ? "local" : "remote"));
		json_object_set_new(o, "private",
				    json_boolean(ch->private_chan));
		json_object_set_new(
		    o, "channel_type",
		    json_pack("{s:[i,i],s:[s,s]}", "bits", 12, 22, "names",
			      "static_remotekey/even", "anchors/even"));
		/* Every HTLC added or removed is a commitment each way. */
		json_object_set_new(
		    o, "total_local_commitments",
		    json_integer(
			(json_int_t)(1 + 2 * (htlcs +
					      ch->in_payments_offered[us]))));
		json_object_set_new(
		    o, "total_remote_commitments",
		    json_integer(
			(json_int_t)(1 + 2 * (htlcs +
					      ch->in_payments_offered[us]))));
		json_object_set_new(o, "total_htlcs_sent",
				    json_integer((json_int_t)htlcs));
		json_object_set_new(o, "funding_txid",
				    json_string(ch->funding_txid));
		json_object_set_new(o, "funding_outnum",
				    json_integer(ch->funding_outnum));
		json_object_set_new(o, "leased", json_false());
		if (ch->push_msat)
			json_object_set_new(
			    o, "funding_pushed_msat",
			    json_integer((json_int_t)ch->push_msat));
		json_object_set_new(o, "funding_withheld", json_false());
		json_object_set_new(
		    o, "total_msat",
		    json_integer((json_int_t)(ch->capacity_sat * 1000)));
		json_object_set_new(o, "final_to_us_msat",
				    json_integer((json_int_t)fin));
		json_object_set_new(o, "min_to_us_msat",
				    json_integer((json_int_t)lo));
		json_object_set_new(o, "max_to_us_msat",
				    json_integer((json_int_t)hi));
		json_object_set_new(o, "close_cause",
				    json_string(ch->closer < 0	   ? "unknown"
						: ch->closer == us ? "user"
								   : "remote"));
		json_array_append_new(arr, o);
	}
	lnd_req_ok(req, json_pack("{s:o}", "closedchannels", arr));
}

/* ---------- dev-sim-advance ---------- */

static void m_dev_sim_advance(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"seconds", NULL};
	struct lnd *lnd = lnd_req_node(req);
	void *arg;
	const struct sim_hooks *h = lnd_sim_hooks(lnd, &arg);
	uint64_t secs = 0;

	if (!meth_check_names(req, params, names) ||
	    !meth_u64(req, params, 0, "seconds", true, &secs, NULL))
		return;
	if (secs > 366ULL * 86400) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "seconds: at most a year at a time");
		return;
	}
	if (!h || !h->advance) {
		lnd_req_fail(req, ERR_LIGHTNINGD,
			     "this node cannot advance the simulation");
		return;
	}
	h->advance(arg, req, secs);
}

const struct lnd_method meth_chain[] = {
    {"feerates", m_feerates, "style", "Show fee estimates."},
    {"listfunds", m_listfunds, "[spent]",
     "Show on-chain outputs and channel funds."},
    {"connect", m_connect, "id [host] [port]", "Connect to a peer."},
    {"fundchannel", m_fundchannel,
     "id amount [feerate] [announce] [minconf] [push_msat] [close_to] "
     "[request_amt] [compact_lease] [utxos] [mindepth] [reserve] "
     "[channel_type]",
     "Open a channel funded from the on-chain wallet."},
    {"close", m_close,
     "id [unilateraltimeout] [destination] [fee_negotiation_step] "
     "[wrong_funding] [force_lease_closed] [feerange]",
     "Close a channel."},
    {"listclosedchannels", m_listclosedchannels, "[id]",
     "Show closed channels."},
    {"dev-sim-advance", m_dev_sim_advance, "seconds",
     "hive-sim: run the simulation forward (serve mode)."},
};
const size_t meth_chain_n = ARRAY_SIZE(meth_chain);
