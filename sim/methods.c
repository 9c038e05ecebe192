/* Built-in methods of the fake lightningd, answering from the simulated
 * network with exactly the shapes of Core Lightning's schemas (v26). */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/util.h"
#include "common/wire.h"
#include "sim/keys.h"
#include "sim/lightningd.h"
#include "sim/net.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Fetch a param given by position or by name. */
static const json_t *param(const json_t *params, size_t pos, const char *name)
{
	if (json_is_array(params))
		return json_array_get(params, pos);
	return json_object_get(params, name);
}

static const char *param_str(const json_t *params, size_t pos,
			     const char *name)
{
	return json_string_value(param(params, pos, name));
}

/* Reject unknown named parameters, as lightningd does. */
static bool check_names(struct lnd_req *req, const json_t *params,
			const char *const *names)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	while (names[n])
		n++;
	if (json_is_array(params)) {
		if (json_array_size(params) > n) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "too many parameters");
			return false;
		}
		return true;
	}
	json_object_foreach((json_t *)params, key, v) {
		bool ok = false;
		for (size_t i = 0; i < n; i++)
			ok |= !strcmp(names[i], key);
		if (!ok) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "unknown parameter: %s", key);
			return false;
		}
	}
	return true;
}

static struct net_node *self(struct lnd_req *req)
{
	struct lnd *lnd = lnd_req_node(req);
	return &lnd_net(lnd)->nodes[lnd_node_idx(lnd)];
}

static const char *state_name(enum chan_state s)
{
	switch (s) {
	case CHAN_OPENING:
		return "CHANNELD_AWAITING_LOCKIN";
	case CHAN_NORMAL:
		return "CHANNELD_NORMAL";
	case CHAN_CLOSING:
		return "CLOSINGD_COMPLETE";
	case CHAN_CLOSED:
		return "ONCHAIN";
	}
	return "CHANNELD_NORMAL";
}

static uint64_t reserve_msat(const struct net_channel *ch)
{
	/* 1% of capacity, as lightningd negotiates by default. */
	return ch->capacity_sat * 10;
}

static json_t *policy_json(const struct chan_policy *p)
{
	return json_pack("{s:I,s:I,s:i,s:I,s:i}", "htlc_minimum_msat",
			 (json_int_t)p->htlc_min_msat, "htlc_maximum_msat",
			 (json_int_t)p->htlc_max_msat, "cltv_expiry_delta",
			 p->cltv_delta, "fee_base_msat",
			 (json_int_t)p->base_msat, "fee_proportional_millionths",
			 (int)p->ppm);
}

static void iso_time(uint64_t sec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static json_t *peerchannel_json(struct net *net, const struct net_channel *ch,
				uint32_t me)
{
	int us = net_channel_side(ch, me), them = 1 - us;
	const struct net_node *peer = &net->nodes[ch->node[them]];
	uint64_t total = ch->capacity_sat * 1000, res = reserve_msat(ch);
	uint64_t to_us = ch->balance_msat[us], to_them = ch->balance_msat[them];
	uint64_t spendable = to_us > res ? to_us - res : 0;
	uint64_t receivable = to_them > res ? to_them - res : 0;
	char stamp[40];
	json_t *o;

	iso_time(ch->opened_sec, stamp, sizeof(stamp));
	o = json_pack(
		"{s:s,s:b,s:b,s:s,s:o,s:{s:o,s:o},s:{s:i,s:i},s:s,s:s,s:i,"
		"s:s,s:s,s:i,s:b,s:s,s:[s,s],s:{s:I,s:I,s:I},s:I,s:I,s:I,s:I}",
		"peer_id", peer->key.id_hex, "peer_connected", peer->connected,
		"reestablished", peer->connected, "state",
		state_name(ch->state), "channel_type",
		json_pack("{s:[i,i],s:[s,s]}", "bits", 12, 22, "names",
			  "static_remotekey/even", "anchors/even"),
		"updates", "local", policy_json(&ch->pol[us]), "remote",
		policy_json(&ch->pol[them]), "feerate", "perkw", 253, "perkb",
		1012, "owner", "channeld", "short_channel_id", ch->scid,
		"direction", us, "channel_id", ch->channel_id, "funding_txid",
		ch->funding_txid, "funding_outnum", (int)ch->funding_outnum,
		"private", ch->private_chan, "opener",
		ch->opener == us ? "local" : "remote", "features",
		"option_static_remotekey", "option_anchors", "funding",
		"local_funds_msat",
		(json_int_t)(ch->opener == us ? total : 0), "remote_funds_msat",
		(json_int_t)(ch->opener == us ? 0 : total), "pushed_msat",
		(json_int_t)0, "to_us_msat", (json_int_t)to_us,
		"min_to_us_msat", (json_int_t)to_us, "max_to_us_msat",
		(json_int_t)to_us, "total_msat", (json_int_t)total);
	json_object_set_new(o, "fee_base_msat",
			    json_integer((json_int_t)ch->pol[us].base_msat));
	json_object_set_new(o, "fee_proportional_millionths",
			    json_integer(ch->pol[us].ppm));
	json_object_set_new(o, "dust_limit_msat", json_integer(546000));
	json_object_set_new(o, "their_max_htlc_value_in_flight_msat",
			    json_integer((json_int_t)total));
	json_object_set_new(o, "our_max_htlc_value_in_flight_msat",
			    json_integer((json_int_t)total));
	json_object_set_new(o, "their_reserve_msat",
			    json_integer((json_int_t)res));
	json_object_set_new(o, "our_reserve_msat", json_integer((json_int_t)res));
	json_object_set_new(o, "spendable_msat",
			    json_integer((json_int_t)spendable));
	json_object_set_new(o, "receivable_msat",
			    json_integer((json_int_t)receivable));
	json_object_set_new(o, "minimum_htlc_in_msat",
			    json_integer((json_int_t)ch->pol[them].htlc_min_msat));
	json_object_set_new(o, "minimum_htlc_out_msat",
			    json_integer((json_int_t)ch->pol[us].htlc_min_msat));
	json_object_set_new(o, "maximum_htlc_out_msat",
			    json_integer((json_int_t)ch->pol[us].htlc_max_msat));
	json_object_set_new(o, "their_to_self_delay", json_integer(144));
	json_object_set_new(o, "our_to_self_delay", json_integer(144));
	json_object_set_new(o, "max_accepted_htlcs",
			    json_integer(ch->max_htlcs[us]));
	json_object_set_new(
		o, "state_changes",
		json_pack("[{s:s,s:s,s:s,s:s,s:s}]", "timestamp", stamp,
			  "old_state", "CHANNELD_AWAITING_LOCKIN", "new_state",
			  "CHANNELD_NORMAL", "cause",
			  ch->opener == us ? "user" : "remote", "message",
			  "Lockin complete"));
	json_object_set_new(o, "status",
			    json_pack("[s]", "CHANNELD_NORMAL:Channel ready "
					     "for use."));
	json_object_set_new(o, "in_payments_offered",
			    json_integer(ch->in_payments_offered[us]));
	json_object_set_new(o, "in_offered_msat",
			    json_integer((json_int_t)ch->in_fulfilled_msat[us]));
	json_object_set_new(o, "in_payments_fulfilled",
			    json_integer(ch->in_payments_fulfilled[us]));
	json_object_set_new(o, "in_fulfilled_msat",
			    json_integer((json_int_t)ch->in_fulfilled_msat[us]));
	json_object_set_new(o, "out_payments_offered",
			    json_integer(ch->out_payments_offered[us]));
	json_object_set_new(o, "out_offered_msat",
			    json_integer((json_int_t)ch->out_fulfilled_msat[us]));
	json_object_set_new(o, "out_payments_fulfilled",
			    json_integer(ch->out_payments_fulfilled[us]));
	json_object_set_new(o, "out_fulfilled_msat",
			    json_integer((json_int_t)ch->out_fulfilled_msat[us]));
	if (peer->connected)
		json_object_set_new(o, "last_stable_connection",
				    json_integer((json_int_t)net->now_sec));
	json_object_set_new(o, "htlcs", json_array());
	return o;
}

static void m_getinfo(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {NULL};
	struct lnd *lnd = lnd_req_node(req);
	struct net *net = lnd_net(lnd);
	struct net_node *me = self(req);
	unsigned active = 0, pending = 0, inactive = 0, peers = 0;

	if (!check_names(req, params, names))
		return;
	for (size_t i = 0; i < me->nchans; i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		if (ch->state == CHAN_NORMAL)
			active++;
		else if (ch->state == CHAN_OPENING)
			pending++;
		else if (ch->state == CHAN_CLOSING)
			inactive++;
		if (ch->state != CHAN_CLOSED)
			peers++;
	}
	lnd_req_ok(req,
		   json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:[],s:[],s:s,"
			     "s:i,s:s,s:I,s:s,s:{s:s,s:s,s:s,s:s}}",
			     "id", me->key.id_hex, "alias", me->alias, "color",
			     me->color, "num_peers", peers,
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
	static const char *const names[] = {"id", "short_channel_id", NULL};
	struct net *net = lnd_net(lnd_req_node(req));
	struct net_node *me = self(req);
	const char *id = param_str(params, 0, "id");
	const char *scid = param_str(params, 1, "short_channel_id");
	json_t *arr;

	if (!check_names(req, params, names))
		return;
	if (param(params, 0, "id") && !json_is_null(param(params, 0, "id")) &&
	    !pubkey_hex_valid(id)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "id: should be a node id");
		return;
	}
	if (param(params, 1, "short_channel_id") &&
	    !json_is_null(param(params, 1, "short_channel_id")) &&
	    !scid_valid(scid)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "short_channel_id: should be a short_channel_id");
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < me->nchans; i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		const struct net_node *peer =
			&net->nodes[net_channel_peer(ch, me->idx)];
		if (ch->state == CHAN_CLOSED)
			continue;
		if (id && strcasecmp(id, peer->key.id_hex))
			continue;
		if (scid && strcmp(scid, ch->scid))
			continue;
		json_array_append_new(arr, peerchannel_json(net, ch, me->idx));
	}
	lnd_req_ok(req, json_pack("{s:o}", "channels", arr));
}

static void m_listpeers(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id", "level", NULL};
	struct net *net = lnd_net(lnd_req_node(req));
	struct net_node *me = self(req);
	const char *id = param_str(params, 0, "id");
	json_t *arr = json_array();
	uint32_t *seen = xzalloc(sizeof(uint32_t) * (me->nchans + 1));
	size_t nseen = 0;

	if (!check_names(req, params, names)) {
		json_decref(arr);
		free(seen);
		return;
	}
	for (size_t i = 0; i < me->nchans; i++) {
		const struct net_channel *ch = &net->chans[me->chans[i]];
		uint32_t p = net_channel_peer(ch, me->idx);
		unsigned nch = 0;
		bool dup = false;
		if (ch->state == CHAN_CLOSED)
			continue;
		for (size_t k = 0; k < nseen; k++)
			dup |= seen[k] == p;
		if (dup)
			continue;
		seen[nseen++] = p;
		if (id && strcasecmp(id, net->nodes[p].key.id_hex))
			continue;
		for (size_t k = 0; k < me->nchans; k++) {
			const struct net_channel *c2 = &net->chans[me->chans[k]];
			nch += c2->state != CHAN_CLOSED &&
			       net_channel_peer(c2, me->idx) == p;
		}
		json_t *o = json_pack("{s:s,s:b,s:i}", "id",
				      net->nodes[p].key.id_hex, "connected",
				      net->nodes[p].connected, "num_channels",
				      nch);
		if (net->nodes[p].connected) {
			char *addr = xfmt("127.0.0.1:%u", 9735 + p);
			json_object_set_new(o, "netaddr", json_pack("[s]", addr));
			json_object_set_new(o, "features",
					    json_string("08a0000a8a5961"));
			free(addr);
		}
		json_array_append_new(arr, o);
	}
	free(seen);
	lnd_req_ok(req, json_pack("{s:o}", "peers", arr));
}

static bool parse_u64_param(const json_t *v, uint64_t *out)
{
	if (!v || json_is_null(v))
		return false;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	return json_value_msat(v, out);
}

static void m_setchannel(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"id", "feebase", "feeppm",
					    "htlcmin", "htlcmax",
					    "enforcedelay",
					    "ignorefeelimits", NULL};
	struct lnd *lnd = lnd_req_node(req);
	struct net *net = lnd_net(lnd);
	struct net_node *me = self(req);
	const char *id = param_str(params, 0, "id");
	const json_t *jbase = param(params, 1, "feebase");
	const json_t *jppm = param(params, 2, "feeppm");
	const json_t *jmin = param(params, 3, "htlcmin");
	const json_t *jmax = param(params, 4, "htlcmax");
	uint64_t base = 0, ppm = 0, hmin = 0, hmax = 0, delay = 0;
	bool all;
	json_t *arr;
	void *harg;
	const struct sim_hooks *hooks = lnd_sim_hooks(lnd, &harg);

	if (!check_names(req, params, names))
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
	if ((jbase && !json_is_null(jbase) && !parse_u64_param(jbase, &base)) ||
	    (jppm && !json_is_null(jppm) && !parse_u64_param(jppm, &ppm)) ||
	    (jmin && !json_is_null(jmin) && !parse_u64_param(jmin, &hmin)) ||
	    (jmax && !json_is_null(jmax) && !parse_u64_param(jmax, &hmax)) ||
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

static void m_plugin(struct lnd_req *req, const json_t *params)
{
	const char *sub = param_str(params, 0, "subcommand");
	const char *target = param_str(params, 1, "plugin");
	struct lnd *lnd = lnd_req_node(req);

	if (!sub) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: subcommand");
		return;
	}
	if (!strcmp(sub, "list") || !strcmp(sub, "rescan")) {
		lnd_req_ok(req, json_pack("{s:s,s:o}", "command", sub,
					  "plugins",
					  lnd_plugin_list_json(lnd)));
		return;
	}
	if (!strcmp(sub, "start")) {
		json_t *opts = json_object();
		if (!target)
			target = param_str(params, 1, "plugin");
		if (!target) {
			json_decref(opts);
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "missing required parameter: plugin");
			return;
		}
		if (json_is_object(params)) {
			const char *k;
			json_t *v;
			json_object_foreach((json_t *)params, k, v)
				if (strcmp(k, "subcommand") && strcmp(k, "plugin"))
					json_object_set(opts, k, v);
		} else {
			/* Positional extras are "name=value". */
			for (size_t i = 2; i < json_array_size(params); i++) {
				const char *kv = json_string_value(
					json_array_get(params, i));
				const char *eq = kv ? strchr(kv, '=') : NULL;
				if (!eq)
					continue;
				char *k = xstrndup(kv, (size_t)(eq - kv));
				json_object_set_new(opts, k, json_string(eq + 1));
				free(k);
			}
		}
		lnd_plugin_start_req(req, target, opts);
		json_decref(opts);
		return;
	}
	if (!strcmp(sub, "stop")) {
		if (!target) {
			lnd_req_fail(req, ERR_INVALID_PARAMS,
				     "missing required parameter: plugin");
			return;
		}
		lnd_plugin_stop_req(req, target);
		return;
	}
	lnd_req_fail(req, ERR_INVALID_PARAMS,
		     "subcommand: should be start, stop, list or rescan");
}

static void m_help(struct lnd_req *req, const json_t *params)
{
	const char *only = param_str(params, 0, "command");
	json_t *h = lnd_help_json(lnd_req_node(req), only);

	if (only && json_array_size(h) == 0) {
		json_decref(h);
		lnd_req_fail(req, -32601, "Unknown command %s", only);
		return;
	}
	lnd_req_ok(req, json_pack("{s:o,s:s}", "help", h, "format-hint",
				  "simple"));
}

static void m_setconfig(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"config", "val", "transient",
					    NULL};
	const char *name = param_str(params, 0, "config");

	if (!check_names(req, params, names))
		return;
	if (!name) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: config");
		return;
	}
	lnd_setconfig_req(req, name, param(params, 1, "val"));
}

static void m_signmessage(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"message", NULL};
	const char *msg = param_str(params, 0, "message");
	uint8_t sig[64];
	int recid;
	char *zbase, *sighex, recidhex[3];

	if (!check_names(req, params, names))
		return;
	if (!msg) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: message");
		return;
	}
	if (strlen(msg) > 65535) {
		lnd_req_fail(req, ERR_INVALID_PARAMS, "Message must be < 64k");
		return;
	}
	if (!node_sign_message(&self(req)->key, msg, sig, &recid, &zbase)) {
		lnd_req_fail(req, ERR_LIGHTNINGD, "signing failed");
		return;
	}
	sighex = hex_encode(sig, 64);
	snprintf(recidhex, sizeof(recidhex), "%02x", recid);
	lnd_req_ok(req, json_pack("{s:s,s:s,s:s}", "signature", sighex,
				  "recid", recidhex, "zbase", zbase));
	free(sighex);
	free(zbase);
}

static void m_checkmessage(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"message", "zbase", "pubkey",
					    NULL};
	struct net *net = lnd_net(lnd_req_node(req));
	const char *msg = param_str(params, 0, "message");
	const char *zb = param_str(params, 1, "zbase");
	const char *pk = param_str(params, 2, "pubkey");
	char rec[67];

	if (!check_names(req, params, names))
		return;
	if (!msg || !zb) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: %s",
			     msg ? "zbase" : "message");
		return;
	}
	if (pk && !pubkey_hex_valid(pk)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "pubkey: should be a node id");
		return;
	}
	if (!node_recover_signer(msg, zb, rec)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "zbase is not a valid signature");
		return;
	}
	if (pk) {
		lnd_req_ok(req, json_pack("{s:s,s:b}", "pubkey", rec,
					  "verified", !strcasecmp(pk, rec)));
		return;
	}
	/* Without a key, only signers known from the graph verify. */
	if (!net_node_by_id(net, rec)) {
		lnd_req_fail(req, 1301, "pubkey not found in the graph");
		return;
	}
	lnd_req_ok(req, json_pack("{s:s,s:b}", "pubkey", rec, "verified", 1));
}

static void m_sendcustommsg(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"node_id", "msg", NULL};
	struct lnd *lnd = lnd_req_node(req);
	const char *id = param_str(params, 0, "node_id");
	const char *hex = param_str(params, 1, "msg");
	void *harg;
	const struct sim_hooks *hooks = lnd_sim_hooks(lnd, &harg);
	unsigned type;
	char *err = NULL;

	if (!check_names(req, params, names))
		return;
	if (!pubkey_hex_valid(id)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "node_id: should be a node id");
		return;
	}
	if (!hex || strlen(hex) < 4 || strlen(hex) % 2 ||
	    strspn(hex, "0123456789abcdefABCDEF") != strlen(hex) ||
	    sscanf(hex, "%4x", &type) != 1) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "msg: should be a hex message with a type");
		return;
	}
	if (type % 2 == 0) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Cannot send even-typed %u custom message", type);
		return;
	}
	if (!hooks || !hooks->sendcustommsg ||
	    !hooks->sendcustommsg(harg, lnd_node_idx(lnd), id, hex, &err)) {
		lnd_req_fail(req, ERR_LIGHTNINGD, "%s",
			     err ? err : "No such peer");
		free(err);
		return;
	}
	lnd_req_ok(req, json_pack("{s:s}", "status",
				  "Message sent to connectd for delivery"));
}

static void m_listconfigs(struct lnd_req *req, const json_t *params)
{
	struct lnd *lnd = lnd_req_node(req);
	json_t *configs = json_pack(
		"{s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:s}}", "network", "value_str",
		lnd_net(lnd)->network, "source", "default", "lightning-dir",
		"value_str", lnd_dir(lnd), "source", "cmdline", "alias",
		"value_str", self(req)->alias, "source", "default");
	(void)params;
	lnd_req_ok(req, json_pack("{s:o}", "configs", configs));
}

const struct lnd_method lnd_methods[] = {
	{"getinfo", m_getinfo, "", "Show information about this node."},
	{"listpeerchannels", m_listpeerchannels, "[id] [short_channel_id]",
	 "Show channels with direct peers."},
	{"listpeers", m_listpeers, "[id] [level]", "Show current peers."},
	{"setchannel", m_setchannel,
	 "id [feebase] [feeppm] [htlcmin] [htlcmax] [enforcedelay] "
	 "[ignorefeelimits]",
	 "Set fees and HTLC limits of channels."},
	{"plugin", m_plugin, "subcommand [plugin] [options]",
	 "Start, stop or list plugins."},
	{"help", m_help, "[command]", "List available commands."},
	{"setconfig", m_setconfig, "config [val] [transient]",
	 "Change a dynamic option."},
	{"listconfigs", m_listconfigs, "[config]", "List configuration."},
	{"signmessage", m_signmessage, "message",
	 "Sign a message with this node's key."},
	{"checkmessage", m_checkmessage, "message zbase [pubkey]",
	 "Verify a signed message."},
	{"sendcustommsg", m_sendcustommsg, "node_id msg",
	 "Send a custom message to a peer."},
};
const size_t lnd_num_methods = ARRAY_SIZE(lnd_methods);
