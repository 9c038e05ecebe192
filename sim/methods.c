/* Built-in methods of the fake lightningd, answering with exactly the
 * shapes of Core Lightning's schemas (v26): the parameter and filter
 * helpers every methods_*.c file shares (sim/methods.h); the methods of
 * the daemon itself (plugins, help, configuration, signed and custom
 * messages, dev-sim-fail); and the list of method tables
 * lightningd_rpc.c dispatches through. */
#include "sim/methods.h"
#include "common/amount.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/util.h"
#include "common/wire.h"
#include "sim/keys.h"
#include "sim/lightningd.h"
#include "sim/net.h"
#include <stdio.h>
#include <string.h>

const json_t *meth_param(const json_t *params, size_t pos, const char *name)
{
	const json_t *v = json_is_array(params) ? json_array_get(params, pos)
						: json_object_get(params, name);
	return json_is_null(v) ? NULL : v;
}

const char *meth_param_str(const json_t *params, size_t pos,
			   const char *name)
{
	return json_string_value(meth_param(params, pos, name));
}

bool meth_check_names(struct lnd_req *req, const json_t *params,
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

struct net_node *meth_self(struct lnd_req *req)
{
	struct lnd *lnd = lnd_req_node(req);
	return &lnd_net(lnd)->nodes[lnd_node_idx(lnd)];
}

struct net *meth_net(struct lnd_req *req)
{
	return lnd_net(lnd_req_node(req));
}

struct payments *meth_payments(struct lnd_req *req)
{
	void *arg;
	const struct sim_hooks *h = lnd_sim_hooks(lnd_req_node(req), &arg);
	return h && h->payments ? h->payments(arg) : NULL;
}

static bool missing(struct lnd_req *req, const char *name)
{
	lnd_req_fail(req, ERR_INVALID_PARAMS, "missing required parameter: %s",
		     name);
	return false;
}

bool meth_u64(struct lnd_req *req, const json_t *params, size_t pos,
	      const char *name, bool required, uint64_t *out, bool *present)
{
	const json_t *v = meth_param(params, pos, name);
	unsigned long long u;

	if (present)
		*present = v != NULL;
	if (!v)
		return required ? missing(req, name) : true;
	/* lightningd takes numbers as JSON numbers or numeric strings. */
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	if (json_is_string(v) && str_to_u64(json_string_value(v), &u)) {
		*out = u;
		return true;
	}
	lnd_req_fail(req, ERR_INVALID_PARAMS,
		     "%s: should be an unsigned 64 bit integer", name);
	return false;
}

bool meth_amount_value(const json_t *v, uint64_t *msat)
{
	const char *s = json_string_value(v);
	unsigned long long u;
	double d;
	char *num;
	bool ok;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*msat = (uint64_t)json_integer_value(v);
		return true;
	}
	if (!s)
		return false;
	if (str_ends_with(s, "msat") || str_ends_with(s, "sat")) {
		bool is_msat = str_ends_with(s, "msat");
		num = xstrndup(s, strlen(s) - (is_msat ? 4 : 3));
		ok = str_to_u64(num, &u);
		free(num);
		if (!ok || (!is_msat && u > AMOUNT_MSAT_MAX / 1000))
			return false;
		*msat = is_msat ? u : u * 1000;
		return true;
	}
	if (str_ends_with(s, "btc")) {
		num = xstrndup(s, strlen(s) - 3);
		ok = str_to_double(num, &d);
		free(num);
		if (!ok || d < 0 || d > 21e6)
			return false;
		*msat = (uint64_t)(d * 1e11 + 0.5);
		return true;
	}
	if (!str_to_u64(s, &u))
		return false;
	*msat = u;
	return true;
}

bool meth_msat(struct lnd_req *req, const json_t *params, size_t pos,
	       const char *name, bool required, uint64_t *out, bool *present)
{
	const json_t *v = meth_param(params, pos, name);

	if (present)
		*present = v != NULL;
	if (!v)
		return required ? missing(req, name) : true;
	if (!meth_amount_value(v, out)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "%s: should be a millisatoshi amount", name);
		return false;
	}
	return true;
}

bool meth_pubkey(struct lnd_req *req, const json_t *params, size_t pos,
		 const char *name, bool required, const char **out)
{
	const json_t *v = meth_param(params, pos, name);

	*out = NULL;
	if (!v)
		return required ? missing(req, name) : true;
	if (!pubkey_hex_valid(json_string_value(v))) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "%s: should be a node id", name);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

bool meth_scid(struct lnd_req *req, const json_t *params, size_t pos,
	       const char *name, bool required, const char **out)
{
	const json_t *v = meth_param(params, pos, name);

	*out = NULL;
	if (!v)
		return required ? missing(req, name) : true;
	if (!json_is_string(v) || !scid_valid(json_string_value(v))) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "%s: should be a short_channel_id", name);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

bool meth_hash(struct lnd_req *req, const json_t *params, size_t pos,
	       const char *name, bool required, uint8_t out[32],
	       bool *present)
{
	const json_t *v = meth_param(params, pos, name);
	const char *s = json_string_value(v);

	if (present)
		*present = v != NULL;
	if (!v)
		return required ? missing(req, name) : true;
	if (!s || strlen(s) != 64 || !hex_decode_fixed(s, out, 32)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "%s: should be a 32 byte hex value", name);
		return false;
	}
	return true;
}

bool meth_pagination(struct lnd_req *req, const json_t *params,
		     size_t pos_index, const char **index, uint64_t *start,
		     uint64_t *limit)
{
	bool has_start, has_limit;

	*index = meth_param_str(params, pos_index, "index");
	if (meth_param(params, pos_index, "index") && !*index) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "index: should be a string");
		return false;
	}
	if (*index && strcmp(*index, "created") && strcmp(*index, "updated")) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "index: should be created or updated");
		return false;
	}
	*start = 0;
	*limit = UINT64_MAX;
	if (!meth_u64(req, params, pos_index + 1, "start", false, start,
		      &has_start) ||
	    !meth_u64(req, params, pos_index + 2, "limit", false, limit,
		      &has_limit))
		return false;
	if (has_limit && *limit > UINT32_MAX) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "limit: should be an unsigned 32 bit integer");
		return false;
	}
	if (*start && !*index) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Can only specify {start} with {index}");
		return false;
	}
	if (has_limit && !*index) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Can only specify {limit} with {index}");
		return false;
	}
	return true;
}

bool meth_wants(const json_t *f, const char *key)
{
	const json_t *m;

	/* As lnd_req_ok applies it: an object filter keeps the members it
	 * marks true or describes; anything else keeps everything. */
	if (!json_is_object(f))
		return true;
	m = json_object_get(f, key);
	return json_is_true(m) || json_is_object(m) || json_is_array(m);
}

const json_t *meth_filter_sub(const json_t *f, const char *key, bool array)
{
	const json_t *m = json_is_object(f) ? json_object_get(f, key) : NULL;

	if (array)
		return json_is_array(m) && json_array_size(m) == 1
			       ? json_array_get(m, 0)
			       : NULL;
	return json_is_object(m) ? m : NULL;
}

static void m_plugin(struct lnd_req *req, const json_t *params)
{
	const char *sub = meth_param_str(params, 0, "subcommand");
	const char *target = meth_param_str(params, 1, "plugin");
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
			target = meth_param_str(params, 1, "plugin");
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
	const char *only = meth_param_str(params, 0, "command");
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
	const char *name = meth_param_str(params, 0, "config");

	if (!meth_check_names(req, params, names))
		return;
	if (!name) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "missing required parameter: config");
		return;
	}
	lnd_setconfig_req(req, name, meth_param(params, 1, "val"));
}

static void m_signmessage(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"message", NULL};
	const char *msg = meth_param_str(params, 0, "message");
	uint8_t sig[64];
	int recid;
	char *zbase, *sighex, recidhex[3];

	if (!meth_check_names(req, params, names))
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
	if (!node_sign_message(&meth_self(req)->key, msg, sig, &recid, &zbase)) {
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
	const char *msg = meth_param_str(params, 0, "message");
	const char *zb = meth_param_str(params, 1, "zbase");
	const char *pk = meth_param_str(params, 2, "pubkey");
	char rec[67];

	if (!meth_check_names(req, params, names))
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
	const char *id = meth_param_str(params, 0, "node_id");
	const char *hex = meth_param_str(params, 1, "msg");
	void *harg;
	const struct sim_hooks *hooks = lnd_sim_hooks(lnd, &harg);
	unsigned type;
	char *err = NULL;

	if (!meth_check_names(req, params, names))
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
		"value_str", meth_self(req)->alias, "source", "default");
	(void)params;
	lnd_req_ok(req, json_pack("{s:o}", "configs", configs));
}

/* lightning-cli enables notifications on every connection before its real
 * request, reading the answer into a 100-byte buffer: it must exist and
 * stay short. The fake emits no message/progress notifications. */
static void m_notifications(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"enable", NULL};
	const json_t *en = meth_param(params, 0, "enable");

	if (!meth_check_names(req, params, names))
		return;
	if (!json_is_boolean(en)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     en ? "enable: should be 'true' or 'false'"
				: "missing required parameter: enable");
		return;
	}
	lnd_req_ok(req, json_object());
}

/* dev-sim-fail method [count] [code] [message] [hang]: the next calls of
 * a method fail as if lightningd refused them, or with hang=true are
 * never answered (until count=0 releases them as failures); tests of
 * error handling. */
static void m_dev_sim_fail(struct lnd_req *req, const json_t *params)
{
	static const char *const names[] = {"method", "count", "code",
					    "message", "hang", NULL};
	const char *method = meth_param_str(params, 0, "method");
	const json_t *jc = meth_param(params, 1, "count");
	const json_t *jcode = meth_param(params, 2, "code");
	const char *message = meth_param_str(params, 3, "message");
	const json_t *jhang = meth_param(params, 4, "hang");
	int64_t count = jc ? json_integer_value(jc) : 1;

	if (!meth_check_names(req, params, names))
		return;
	if (!method || (jc && !json_is_integer(jc)) ||
	    (jcode && !json_is_integer(jcode)) ||
	    (jhang && !json_is_boolean(jhang))) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "usage: dev-sim-fail method [count] [code] "
			     "[message] [hang]");
		return;
	}
	lnd_inject_fault(lnd_req_node(req), method, count,
			 jcode ? (int)json_integer_value(jcode) : ERR_LIGHTNINGD,
			 message ? message : "injected failure",
			 json_is_true(jhang));
	lnd_req_ok(req, json_pack("{s:s,s:I,s:b}", "method", method, "count",
				  (json_int_t)count, "hang",
				  json_is_true(jhang)));
}


const struct lnd_method meth_core[] = {
	{"plugin", m_plugin, "subcommand [plugin] [options]",
	 "Start, stop or list plugins."},
	{"help", m_help, "[command]", "List available commands."},
	{"dev-sim-fail", m_dev_sim_fail, "method [count] [code] [message]",
	 "Make the next calls of a method fail (simulator only)."},
	{"notifications", m_notifications, "enable",
	 "Enable or disable notifications on this connection."},
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
const size_t meth_core_n = ARRAY_SIZE(meth_core);

/* Searched in this order, which is also the order `help` lists. */
const struct lnd_method_table lnd_method_tables[] = {
	{meth_channels, &meth_channels_n},
	{meth_core, &meth_core_n},
	{meth_gossip, &meth_gossip_n},
	{meth_chain, &meth_chain_n},
	{meth_invoice, &meth_invoice_n},
	{meth_pay, &meth_pay_n},
	{meth_datastore, &meth_datastore_n},
};
const size_t lnd_num_method_tables = ARRAY_SIZE(lnd_method_tables);

