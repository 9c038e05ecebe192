/* The node and its channels, as the fake lightningd answers for them:
 * getinfo, listpeerchannels (built as the result filter keeps it: a big
 * node's answer is never built whole), listpeers and setchannel, from
 * the simulated network's state with the shapes of Core Lightning's v26
 * schemas. */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/util.h"
#include "sim/chain.h"
#include "sim/lightningd.h"
#include "sim/methods.h"
#include "sim/net.h"
#include "sim/notify.h"
#include <stdio.h>
#include <string.h>

static uint64_t reserve_msat(const struct net_channel *ch)
{
	/* 1% of capacity, as lightningd negotiates by default. */
	return ch->capacity_sat * 10;
}

/* Members of a listed object, each only if the result filter @f (NULL:
 * none) keeps it. */
static void put_int(json_t *o, const json_t *f, const char *key,
		    json_int_t v)
{
	if (meth_wants(f, key))
		json_object_set_new(o, key, json_integer(v));
}

static void put_str(json_t *o, const json_t *f, const char *key,
		    const char *v)
{
	if (meth_wants(f, key))
		json_object_set_new(o, key, json_string(v));
}

static void put_bool(json_t *o, const json_t *f, const char *key, bool v)
{
	if (meth_wants(f, key))
		json_object_set_new(o, key, json_boolean(v));
}

/* A nested member (@v stolen, built only when meth_wants said so),
 * filtered inside as @f says. */
static void put_json(json_t *o, const json_t *f, const char *key, json_t *v)
{
	const json_t *sub = json_is_object(f) ? json_object_get(f, key) : NULL;

	if (json_is_object(sub) || json_is_array(sub)) {
		json_t *kept = lnd_filter(v, sub);
		json_decref(v);
		v = kept;
	}
	json_object_set_new(o, key, v);
}

/* One direction's channel_update as listpeerchannels' "updates" shows it,
 * from the simulated network's own record of it. */
static json_t *chan_policy_json(const struct chan_policy *p, const json_t *f)
{
	json_t *o = json_object();

	put_int(o, f, "htlc_minimum_msat", (json_int_t)p->htlc_min_msat);
	put_int(o, f, "htlc_maximum_msat", (json_int_t)p->htlc_max_msat);
	put_int(o, f, "cltv_expiry_delta", p->cltv_delta);
	put_int(o, f, "fee_base_msat", (json_int_t)p->base_msat);
	put_int(o, f, "fee_proportional_millionths", (json_int_t)p->ppm);
	return o;
}

/* The daemon that owns a channel in each state (listpeerchannels'
 * "owner"). */
static const char *state_owner(enum cln_state s)
{
	switch (s) {
	case CLN_AWAITING_LOCKIN:
	case CLN_NORMAL:
	case CLN_SHUTTING_DOWN:
		return "channeld";
	case CLN_SIGEXCHANGE:
	case CLN_CLOSING_COMPLETE:
		return "closingd";
	case CLN_FUNDING_SPEND_SEEN:
	case CLN_ONCHAIN:
		return "onchaind";
	case CLN_NONE:
	case CLN_CLOSED:
		break;
	}
	return NULL;
}

/* The billboard line lightningd shows in "status". */
static char *state_status(const struct net *net, const struct net_channel *ch)
{
	const char *name = cln_state_name(ch->cln_state);

	switch (ch->cln_state) {
	case CLN_AWAITING_LOCKIN: {
		uint32_t depth = net_channel_mined(net, ch)
					 ? net->height - ch->open_height + 1
					 : 0;
		return xfmt("%s:Funding needs %u more confirmations to be "
			    "ready.",
			    name,
			    ch->funding_confirms > depth
				    ? ch->funding_confirms - depth
				    : 0);
	}
	case CLN_NORMAL:
		return xfmt("%s:Channel ready for use.", name);
	case CLN_SHUTTING_DOWN:
		return xfmt("%s:Waiting for HTLCs to clear before shutdown.",
			    name);
	case CLN_SIGEXCHANGE:
		return xfmt("%s:Negotiating closing fee.", name);
	case CLN_CLOSING_COMPLETE:
		return xfmt("%s:Waiting for the closing transaction to be "
			    "mined.",
			    name);
	case CLN_FUNDING_SPEND_SEEN:
	case CLN_ONCHAIN:
		return xfmt("ONCHAIN:All outputs resolved: waiting %u more "
			    "blocks before forgetting channel",
			    ch->forget_height > net->height
				    ? ch->forget_height - net->height
				    : 0);
	case CLN_NONE:
	case CLN_CLOSED:
		break;
	}
	return xfmt("%s:", name);
}

static json_t *state_changes_json(const struct net_channel *ch, int us)
{
	json_t *arr = json_array();
	char stamp[40];

	if (ch->nchanges == 0) {
		/* Born with the scenario: one lockin at its opening. */
		notify_iso_time(ch->opened_sec * 1000, stamp, sizeof(stamp));
		json_array_append_new(
			arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "timestamp",
				       stamp, "old_state",
				       "CHANNELD_AWAITING_LOCKIN", "new_state",
				       "CHANNELD_NORMAL", "cause",
				       ch->opener == us ? "user" : "remote",
				       "message", "Lockin complete"));
		return arr;
	}
	for (size_t i = 0; i < ch->nchanges; i++) {
		const struct chan_change *c = &ch->changes[i];
		enum chan_cause cause = c->cause;
		const char *msg = c->message;
		/* The first change has no old state: not listed, as in
		 * lightningd (it stores changes between states only). */
		if (c->old_state == CLN_NONE || c->new_state == CLN_CLOSED)
			continue;
		if (c->by_side >= 0 && c->by_side != us &&
		    (cause == CAUSE_USER || cause == CAUSE_LOCAL)) {
			cause = CAUSE_REMOTE;
			if (c->peer_message)
				msg = c->peer_message;
		}
		notify_iso_time(c->at_ms, stamp, sizeof(stamp));
		json_array_append_new(
			arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "timestamp",
				       stamp, "old_state",
				       cln_state_name(c->old_state), "new_state",
				       cln_state_name(c->new_state), "cause",
				       chan_cause_name(cause), "message",
				       msg ? msg : ""));
	}
	return arr;
}

/* The engine tracks in-flight HTLCs per side as a count and a total, not
 * one by one: list that many, sharing the total, so plugins see the slot
 * and value pressure a real node shows. */
static json_t *htlcs_json(const struct net *net, const struct net_channel *ch,
			  int us, const json_t *f)
{
	json_t *arr = json_array();

	for (int side = 0; side < 2; side++) {
		uint16_t n = ch->htlcs_out[side];
		uint64_t total = ch->htlc_out_msat[side];
		for (uint16_t i = 0; i < n; i++) {
			char hash[65];
			uint64_t amt = total / n + (i == 0 ? total % n : 0);
			json_t *o = json_object();
			snprintf(hash, sizeof(hash),
				 "%016llx%016llx%016llx%016llx",
				 (unsigned long long)ch->idx,
				 (unsigned long long)side,
				 (unsigned long long)i,
				 (unsigned long long)net->now_sec);
			put_str(o, f, "direction", side == us ? "out" : "in");
			put_int(o, f, "id", i);
			put_int(o, f, "amount_msat", (json_int_t)amt);
			put_int(o, f, "expiry", net->height + 144);
			put_str(o, f, "payment_hash", hash);
			put_str(o, f, "state",
				side == us ? "SENT_ADD_ACK_REVOCATION"
					   : "RCVD_ADD_ACK_REVOCATION");
			json_array_append_new(arr, o);
		}
	}
	return arr;
}

/* One listpeerchannels entry, as the result filter of an entry @f (NULL:
 * none) keeps it. On a node with thousands of channels this runs
 * thousands of times per call: what the filter drops is never built. */
static json_t *peerchannel_json(struct net *net, const struct net_channel *ch,
				uint32_t me, const json_t *f)
{
	int us = net_channel_side(ch, me), them = 1 - us;
	const struct net_node *peer = &net->nodes[ch->node[them]];
	uint64_t total = ch->capacity_sat * 1000, res = reserve_msat(ch);
	uint64_t to_us = ch->balance_msat[us], to_them = ch->balance_msat[them];
	bool usable = ch->cln_state == CLN_NORMAL;
	/* In-flight HTLCs still count in the balance until they settle, but
	 * cannot be spent (or received into) again meanwhile. */
	uint64_t out_held = ch->htlc_out_msat[us], in_held = ch->htlc_out_msat[them];
	uint64_t spendable =
		usable && to_us > res + out_held ? to_us - res - out_held : 0;
	uint64_t receivable =
		usable && to_them > res + in_held ? to_them - res - in_held : 0;
	uint64_t min_us = ch->min_msat[us] < to_us ? ch->min_msat[us] : to_us;
	uint64_t max_us = ch->max_msat[us] > to_us ? ch->max_msat[us] : to_us;
	const char *owner = state_owner(ch->cln_state);
	json_t *o = json_object();

	put_str(o, f, "peer_id", peer->key.id_hex);
	put_bool(o, f, "peer_connected", peer->connected);
	if (peer->connected)
		put_bool(o, f, "reestablished", true);
	put_str(o, f, "state", cln_state_name(ch->cln_state));
	if (meth_wants(f, "channel_type"))
		put_json(o, f, "channel_type",
			 json_pack("{s:[i,i],s:[s,s]}", "bits", 12, 22,
				   "names", "static_remotekey/even",
				   "anchors/even"));
	if (meth_wants(f, "updates")) {
		const json_t *fu = meth_filter_sub(f, "updates", false);
		json_t *u = json_object();
		if (meth_wants(fu, "local"))
			json_object_set_new(
				u, "local",
				chan_policy_json(
					&ch->pol[us],
					meth_filter_sub(fu, "local", false)));
		if (meth_wants(fu, "remote"))
			json_object_set_new(
				u, "remote",
				chan_policy_json(
					&ch->pol[them],
					meth_filter_sub(fu, "remote", false)));
		json_object_set_new(o, "updates", u);
	}
	put_bool(o, f, "ignore_fee_limits", false);
	put_bool(o, f, "lost_state", false);
	if (meth_wants(f, "feerate")) {
		uint32_t feerate =
			chain_rate_perkw(net, RATE_UNILATERAL_ANCHOR);
		put_json(o, f, "feerate",
			 json_pack("{s:i,s:i}", "perkw", (int)feerate, "perkb",
				   (int)feerate * 4));
	}
	if (owner)
		put_str(o, f, "owner", owner);
	/* The scid exists once the funding tx is in a block. */
	if (net_channel_mined(net, ch)) {
		put_str(o, f, "short_channel_id", ch->scid);
		put_int(o, f, "direction", us);
	}
	put_str(o, f, "channel_id", ch->channel_id);
	put_str(o, f, "funding_txid", ch->funding_txid);
	put_int(o, f, "funding_outnum", ch->funding_outnum);
	put_bool(o, f, "private", ch->private_chan);
	put_str(o, f, "opener", ch->opener == us ? "local" : "remote");
	if (ch->closer >= 0)
		put_str(o, f, "closer", ch->closer == us ? "local" : "remote");
	if (meth_wants(f, "features"))
		put_json(o, f, "features",
			 json_pack("[s,s]", "option_static_remotekey",
				   "option_anchors"));
	if (meth_wants(f, "funding"))
		put_json(o, f, "funding",
			 json_pack("{s:I,s:I,s:I}", "local_funds_msat",
				   (json_int_t)(ch->opener == us ? total : 0),
				   "remote_funds_msat",
				   (json_int_t)(ch->opener == us ? 0 : total),
				   "pushed_msat", (json_int_t)ch->push_msat));
	put_int(o, f, "to_us_msat", (json_int_t)to_us);
	put_int(o, f, "min_to_us_msat", (json_int_t)min_us);
	put_int(o, f, "max_to_us_msat", (json_int_t)max_us);
	put_int(o, f, "total_msat", (json_int_t)total);
	put_int(o, f, "fee_base_msat", (json_int_t)ch->pol[us].base_msat);
	put_int(o, f, "fee_proportional_millionths", ch->pol[us].ppm);
	put_int(o, f, "dust_limit_msat", 546000);
	put_int(o, f, "their_max_htlc_value_in_flight_msat", (json_int_t)total);
	put_int(o, f, "our_max_htlc_value_in_flight_msat", (json_int_t)total);
	put_int(o, f, "their_reserve_msat", (json_int_t)res);
	put_int(o, f, "our_reserve_msat", (json_int_t)res);
	put_int(o, f, "spendable_msat", (json_int_t)spendable);
	put_int(o, f, "receivable_msat", (json_int_t)receivable);
	put_int(o, f, "minimum_htlc_in_msat",
		(json_int_t)ch->pol[them].htlc_min_msat);
	put_int(o, f, "minimum_htlc_out_msat",
		(json_int_t)ch->pol[us].htlc_min_msat);
	put_int(o, f, "maximum_htlc_out_msat",
		(json_int_t)ch->pol[us].htlc_max_msat);
	put_int(o, f, "their_to_self_delay", 144);
	put_int(o, f, "our_to_self_delay", 144);
	put_int(o, f, "max_accepted_htlcs", ch->max_htlcs[us]);
	if (meth_wants(f, "state_changes"))
		put_json(o, f, "state_changes", state_changes_json(ch, us));
	if (meth_wants(f, "status")) {
		char *status = state_status(net, ch);
		put_json(o, f, "status", json_pack("[s]", status));
		free(status);
	}
	put_int(o, f, "in_payments_offered", ch->in_payments_offered[us]);
	put_int(o, f, "in_offered_msat", (json_int_t)ch->in_offered_msat[us]);
	put_int(o, f, "in_payments_fulfilled", ch->in_payments_fulfilled[us]);
	put_int(o, f, "in_fulfilled_msat",
		(json_int_t)ch->in_fulfilled_msat[us]);
	put_int(o, f, "out_payments_offered", ch->out_payments_offered[us]);
	put_int(o, f, "out_offered_msat",
		(json_int_t)ch->out_offered_msat[us]);
	put_int(o, f, "out_payments_fulfilled",
		ch->out_payments_fulfilled[us]);
	put_int(o, f, "out_fulfilled_msat",
		(json_int_t)ch->out_fulfilled_msat[us]);
	if (peer->connected)
		put_int(o, f, "last_stable_connection",
			(json_int_t)net->now_sec);
	if (meth_wants(f, "htlcs"))
		json_object_set_new(o, "htlcs",
				    htlcs_json(net, ch, us,
					       meth_filter_sub(f, "htlcs", true)));
	return o;
}

/* Channels lightningd still has in memory (not yet forgotten). */
static bool chan_listed(const struct net_channel *ch)
{
	return ch->cln_state != CLN_CLOSED;
}

static void m_getinfo(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {NULL};
	struct lnd *lnd = lnd_req_node(req);
	struct net *net = lnd_net(lnd);
	struct net_node *me = meth_self(req);
	unsigned active = 0, pending = 0, inactive = 0;
	size_t npeers;
	uint32_t *peers;

	if (!meth_check_names(req, params, names))
		return;
	for (size_t i = 0; i < me->nchans; i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		if (ch->cln_state == CLN_NORMAL)
			active++;
		else if (ch->cln_state == CLN_AWAITING_LOCKIN)
			pending++;
		else if (chan_listed(ch))
			inactive++;
	}
	peers = net_node_peers(net, me->idx, &npeers);
	free(peers);
	lnd_req_ok(req,
		   json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:[],s:[],s:s,"
			     "s:i,s:s,s:I,s:s,s:{s:s,s:s,s:s,s:s}}",
			     "id", me->key.id_hex, "alias", me->alias, "color",
			     me->color, "num_peers", (int)npeers,
			     "num_pending_channels", pending,
			     "num_active_channels", active,
			     "num_inactive_channels", inactive, "address",
			     "binding", "version", "v26.06-hive-sim",
			     "blockheight", (int)net->height, "network",
			     net->network, "fees_collected_msat",
			     (json_int_t)me->fees_earned_msat, "lightning-dir",
			     lnd_dir(lnd), "our_features", "init",
			     "08a0000a8a5961", "node", "88a0000a8a5961",
			     "channel", "", "invoice", "02000002024100"));
}

static void m_listpeerchannels(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id", "short_channel_id",
					    "channel_id", NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	const char *id, *scid, *cid = meth_param_str(params, 2, "channel_id");
	const json_t *filter = lnd_req_filter(req),
		     *f = meth_filter_sub(filter, "channels", true);
	json_t *result, *arr;

	if (!meth_check_names(req, params, names) ||
	    !meth_pubkey(req, params, 0, "id", false, &id) ||
	    !meth_scid(req, params, 1, "short_channel_id", false, &scid))
		return;
	if (meth_param(params, 2, "channel_id") &&
	    (!cid || strlen(cid) != 64)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "channel_id: should be a channel id");
		return;
	}
	/* Built as the filter keeps it: a big node's answer is not built
	 * whole and then copied. */
	result = json_object();
	if (!meth_wants(filter, "channels")) {
		lnd_req_ok_filtered(req, result);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < me->nchans; i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		const struct net_node *peer =
			&net->nodes[net_channel_peer(ch, me->idx)];
		if (!chan_listed(ch))
			continue;
		if (id && strcasecmp(id, peer->key.id_hex))
			continue;
		if (scid && (strcmp(scid, ch->scid) ||
			     !net_channel_mined(net, ch)))
			continue;
		if (cid && strcasecmp(cid, ch->channel_id))
			continue;
		json_array_append_new(arr,
				      peerchannel_json(net, ch, me->idx, f));
	}
	json_object_set_new(result, "channels", arr);
	lnd_req_ok_filtered(req, result);
}

static void m_listpeers(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id", "level", NULL};
	struct net *net = meth_net(req);
	struct net_node *me = meth_self(req);
	const char *id;
	json_t *arr;
	uint32_t *peers;
	size_t npeers;

	if (!meth_check_names(req, params, names) ||
	    !meth_pubkey(req, params, 0, "id", false, &id))
		return;
	arr = json_array();
	peers = net_node_peers(net, me->idx, &npeers);
	for (size_t k = 0; k < npeers; k++) {
		const struct net_node *p = &net->nodes[peers[k]];
		unsigned nch = 0;
		if (id && strcasecmp(id, p->key.id_hex))
			continue;
		for (size_t i = 0; i < me->nchans; i++) {
			const struct net_channel *c2 = &net->chans[me->chans[i]];
			nch += chan_listed(c2) &&
			       net_channel_peer(c2, me->idx) == p->idx;
		}
		json_t *o = json_pack("{s:s,s:b,s:i}", "id", p->key.id_hex,
				      "connected", p->connected,
				      "num_channels", nch);
		if (p->connected) {
			char *addr = xfmt("127.0.0.1:%u", 9735 + p->idx);
			json_object_set_new(o, "netaddr", json_pack("[s]", addr));
			json_object_set_new(o, "features",
					    json_string("08a0000a8a5961"));
			free(addr);
		}
		json_array_append_new(arr, o);
	}
	free(peers);
	lnd_req_ok(req, json_pack("{s:o}", "peers", arr));
}

static bool parse_u64_param(const json_t *v, uint64_t *out)
{
	if (!v)
		return false;
	return meth_amount_value(v, out);
}

static void m_setchannel(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id", "feebase", "feeppm",
					    "htlcmin", "htlcmax",
					    "enforcedelay",
					    "ignorefeelimits", NULL};
	struct lnd *lnd = lnd_req_node(req);
	struct net *net = lnd_net(lnd);
	struct net_node *me = meth_self(req);
	const char *id = meth_param_str(params, 0, "id");
	const json_t *jbase = meth_param(params, 1, "feebase");
	const json_t *jppm = meth_param(params, 2, "feeppm");
	const json_t *jmin = meth_param(params, 3, "htlcmin");
	const json_t *jmax = meth_param(params, 4, "htlcmax");
	uint64_t base = 0, ppm = 0, hmin = 0, hmax = 0, delay = 0;
	bool all;
	json_t *arr;
	void *harg;
	const struct sim_hooks *hooks = lnd_sim_hooks(lnd, &harg);

	if (!meth_check_names(req, params, names))
		return;
	if (!id) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: id");
		return;
	}
	all = !strcmp(id, "all");
	if (!all && !pubkey_hex_valid(id) && !scid_valid(id) &&
	    strlen(id) != 64) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "id: should be a node id, short_channel_id, "
			     "channel id or \"all\"");
		return;
	}
	if ((jbase && !parse_u64_param(jbase, &base)) ||
	    (jppm && !parse_u64_param(jppm, &ppm)) ||
	    (jmin && !parse_u64_param(jmin, &hmin)) ||
	    (jmax && !parse_u64_param(jmax, &hmax)) ||
	    ppm > UINT32_MAX || base > UINT32_MAX) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "fee and htlc parameters must be non-negative "
			     "integers in range");
		return;
	}
	if (hooks && hooks->gossip_delay_sec)
		delay = hooks->gossip_delay_sec(harg, me->idx);

	arr = json_array();
	for (size_t i = 0; i < me->nchans; i++) {
		struct net_channel *ch = &net->chans[me->chans[i]];
		int us = net_channel_side(ch, me->idx);
		const struct net_node *peer = &net->nodes[ch->node[1 - us]];
		struct chan_policy *p = &ch->pol[us];
		if (ch->state != CHAN_NORMAL && ch->state != CHAN_OPENING)
			continue;
		if (!all && strcasecmp(id, peer->key.id_hex) &&
		    strcmp(id, ch->scid) && strcasecmp(id, ch->channel_id))
			continue;
		uint64_t nb = jbase && !json_is_null(jbase) ? base : p->base_msat;
		uint64_t np = jppm && !json_is_null(jppm) ? ppm : p->ppm;
		uint64_t nmin = jmin && !json_is_null(jmin) ? hmin
							   : p->htlc_min_msat;
		uint64_t nmax = jmax && !json_is_null(jmax) ? hmax
							   : p->htlc_max_msat;
		if (nmax > ch->capacity_sat * 1000)
			nmax = ch->capacity_sat * 1000;
		if (net_set_policy(net, ch, us, nb, (uint32_t)np, nmin, nmax,
				   net->now_sec + delay)) {
			lnd_count_fee_update(lnd);
			me->fee_updates++;
		}
		json_array_append_new(
			arr,
			json_pack("{s:s,s:s,s:s,s:I,s:i,s:I,s:I,s:b}",
				  "peer_id", peer->key.id_hex, "channel_id",
				  ch->channel_id, "short_channel_id", ch->scid,
				  "fee_base_msat", (json_int_t)p->base_msat,
				  "fee_proportional_millionths", (int)p->ppm,
				  "minimum_htlc_out_msat",
				  (json_int_t)p->htlc_min_msat,
				  "maximum_htlc_out_msat",
				  (json_int_t)p->htlc_max_msat,
				  "ignore_fee_limits", 0));
	}
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Could not find any active channels of peer with "
			     "that id");
		return;
	}
	lnd_req_ok(req, json_pack("{s:o}", "channels", arr));
}

const struct lnd_method meth_channels[] = {
	{"getinfo", m_getinfo, "", "Show information about this node."},
	{"listpeerchannels", m_listpeerchannels, "[id] [short_channel_id]",
	 "Show channels with direct peers."},
	{"listpeers", m_listpeers, "[id] [level]", "Show current peers."},
	{"setchannel", m_setchannel,
	 "id [feebase] [feeppm] [htlcmin] [htlcmax] [enforcedelay] "
	 "[ignorefeelimits]",
	 "Set fees and HTLC limits of channels."},
};
const size_t meth_channels_n = ARRAY_SIZE(meth_channels);
