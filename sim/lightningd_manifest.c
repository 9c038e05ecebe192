/* The plugin handshake of the fake lightningd, as lightningd runs it:
 * getmanifest (methods, subscriptions, hooks, notifications, options with
 * their types and defaults), then init with each option typed as the
 * manifest declared it and the configuration object; at startup for all
 * plugins at once, or for one through `plugin start`. setconfig of a
 * dynamic option goes to the plugin that declared it. */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/util.h"
#include "sim/lightningd.h"
#include "sim/lightningd_internal.h"
#include "sim/net.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* ---------- options ---------- */

static struct lopt *plugin_opt(struct lplugin *pl, const char *name)
{
	for (size_t i = 0; i < pl->nopts; i++)
		if (!strcmp(pl->opts[i].name, name))
			return &pl->opts[i];
	return NULL;
}

/* lightningd's own parse of an option value given as text or JSON. */
static json_t *typed_value(const struct lopt *o, const json_t *v, char **err)
{
	char *text = NULL;
	json_t *out = NULL;

	if (json_is_string(v))
		text = xstrdup(json_string_value(v));
	else if (json_is_integer(v))
		text = xfmt("%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		text = xfmt("%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		text = xstrdup(json_is_true(v) ? "true" : "false");
	if (!text) {
		*err = xfmt("%s: bad value type", o->name);
		return NULL;
	}
	if (!strcmp(o->type, "int")) {
		long long i;
		if (!str_to_i64(text, &i))
			*err = xfmt("%s: '%s' should be an integer", o->name,
				    text);
		else
			out = json_integer(i);
	} else if (!strcmp(o->type, "bool") || !strcmp(o->type, "flag")) {
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			out = json_true();
		else if (!strcmp(text, "false") || !strcmp(text, "0"))
			out = json_false();
		else
			*err = xfmt("%s: '%s' should be a bool", o->name, text);
	} else {
		out = json_string(text);
	}
	free(text);
	return out;
}

/* ---------- manifest and init ---------- */

static char *read_manifest(struct lplugin *pl, const json_t *res)
{
	const json_t *opts = json_object_get(res, "options");
	size_t i;
	json_t *o;

	if (!json_is_object(res))
		return xstrdup("getmanifest result is not an object");
	if (!json_is_true(json_object_get(res, "nonnumericids")))
		return xstrdup("manifest lacks nonnumericids: true");
	json_decref(pl->methods);
	json_decref(pl->subs);
	json_decref(pl->hooks);
	json_decref(pl->notif_topics);
	pl->methods = json_incref(json_object_get(res, "rpcmethods"));
	pl->subs = json_incref(json_object_get(res, "subscriptions"));
	pl->hooks = json_incref(json_object_get(res, "hooks"));
	pl->notif_topics = json_array();
	json_array_foreach(json_object_get(res, "notifications"), i, o)
		json_array_append_new(pl->notif_topics,
				      json_string(json_str(o, "method")
							  ? json_str(o, "method")
							  : ""));
	if (!pl->methods)
		pl->methods = json_array();
	if (!pl->subs)
		pl->subs = json_array();
	if (!pl->hooks)
		pl->hooks = json_array();
	pl->dynamic = json_is_true(json_object_get(res, "dynamic"));
	json_array_foreach(pl->methods, i, o)
		if (!json_str(o, "name") || !json_str(o, "usage"))
			return xfmt("rpcmethods[%zu] lacks name or usage", i);
	pl->opts = xzalloc(sizeof(*pl->opts) * (json_array_size(opts) + 1));
	json_array_foreach(opts, i, o) {
		struct lopt *lo = &pl->opts[pl->nopts];
		const char *name = json_str(o, "name"), *type = json_str(o, "type");
		if (!name || !type || !json_str(o, "description"))
			return xfmt("options[%zu] lacks name, type or "
				    "description",
				    i);
		if (strcmp(type, "string") && strcmp(type, "int") &&
		    strcmp(type, "bool") && strcmp(type, "flag") &&
		    strcmp(type, "string-conceal"))
			return xfmt("option %s: unsupported type %s", name,
				    type);
		lo->name = xstrdup(name);
		lo->type = xstrdup(type);
		lo->multi = json_is_true(json_object_get(o, "multi"));
		lo->dynamic = json_is_true(json_object_get(o, "dynamic"));
		pl->nopts++;
		const json_t *def = json_object_get(o, "default");
		if (def && !json_is_null(def) && strcmp(type, "flag")) {
			char *err = NULL;
			lo->def = typed_value(lo, def, &err);
			if (!lo->def)
				return err;
		}
	}
	return NULL;
}

static void manifest_reply(struct lplugin *pl, const json_t *msg, void *arg)
{
	char *err;

	if (!msg)
		return; /* died: plugin_dead reported it */
	if (!json_object_get(msg, "result")) {
		char *t = json_to_text(msg);
		lnd_set_failure(pl->lnd, xfmt("plugin %s: getmanifest failed: "
					      "%.300s",
					      pl->name, t));
		free(t);
		kill(pl->pid, SIGKILL);
		lplugin_dead(pl, "bad manifest");
		return;
	}
	err = read_manifest(pl, json_object_get(msg, "result"));
	if (err) {
		lnd_set_failure(pl->lnd, xfmt("plugin %s: bad manifest: %s",
					      pl->name, err));
		free(err);
		kill(pl->pid, SIGKILL);
		lplugin_dead(pl, "bad manifest");
		return;
	}
	pl->state = PL_MANIFEST_OK;
	(void)arg;
}

static void init_reply(struct lplugin *pl, const json_t *msg, void *arg)
{
	const json_t *res;
	const char *disable;

	if (!msg)
		return;
	res = json_object_get(msg, "result");
	disable = json_str(res, "disable");
	if (disable) {
		pl->state = PL_DISABLED;
		pl->disable_reason = xstrdup(disable);
		lnd_log(pl->lnd, "UNUSUAL", "plugin-manager",
			"%s: disabled itself at init: %s", pl->name, disable);
		/* lightningd kills a plugin that disables itself. */
		kill(pl->pid, SIGTERM);
		return;
	}
	if (!res) {
		char *t = json_to_text(msg);
		lnd_log(pl->lnd, "UNUSUAL", "plugin-manager",
			"%s: init error reply %.200s", pl->name, t);
		free(t);
	}
	pl->state = PL_RUNNING;
	(void)arg;
}

static json_t *init_options(struct lplugin *pl, const json_t *given)
{
	json_t *opts = json_object();

	for (size_t i = 0; i < pl->nopts; i++) {
		struct lopt *o = &pl->opts[i];
		const json_t *g = json_object_get(given, o->name);
		json_t *val = NULL;
		if (g) {
			char *err = NULL;
			if (o->multi) {
				val = json_array();
				if (json_is_array(g)) {
					size_t k;
					json_t *e;
					json_array_foreach(g, k, e) {
						json_t *t = typed_value(o, e, &err);
						if (t)
							json_array_append_new(val, t);
					}
				} else {
					json_t *t = typed_value(o, g, &err);
					if (t)
						json_array_append_new(val, t);
				}
			} else {
				val = typed_value(o, g, &err);
			}
			if (err) {
				lnd_log(pl->lnd, "BROKEN", "plugin-manager",
					"%s", err);
				free(err);
			}
		}
		if (!val && o->def)
			val = o->multi ? json_pack("[O]", o->def)
				       : json_incref(o->def);
		if (!val && o->multi)
			val = json_array();
		if (!val)
			continue; /* unset flag, or no default */
		json_decref(o->value);
		o->value = json_incref(val);
		json_object_set_new(opts, o->name, val);
	}
	return opts;
}

static void plugin_send_init(struct lplugin *pl, const json_t *given,
			     bool startup)
{
	struct lnd *lnd = pl->lnd;
	json_t *params = json_pack(
		"{s:o,s:{s:s,s:s,s:b,s:s,s:{s:s,s:s,s:s,s:s}}}", "options",
		init_options(pl, given), "configuration", "lightning-dir",
		lnd->dir, "rpc-file", "lightning-rpc", "startup", startup,
		"network", lnd->cfg.net->network, "feature_set", "init",
		"08a0000a8a5961", "node", "88a0000a8a5961", "channel", "",
		"invoice", "02000002024100");
	pl->state = PL_INIT;
	lplugin_request(pl, NULL, "init", params, init_reply, NULL, NULL);
}

/* ---------- starting plugins ---------- */

struct start_wait {
	struct lplugin **pls;
	size_t n;
	enum lplugin_state past;
};

static bool all_past(void *arg)
{
	struct start_wait *w = arg;
	for (size_t i = 0; i < w->n; i++)
		if (w->pls[i]->state < w->past)
			return false;
	return true;
}

static void add_plugin(struct lnd *lnd, struct lplugin *pl)
{
	xgrow(&lnd->plugins, &lnd->capplugins, lnd->nplugins + 1,
	      sizeof(*lnd->plugins));
	lnd->plugins[lnd->nplugins++] = pl;
}

static char *method_clash(struct lnd *lnd, struct lplugin *pl)
{
	size_t i;
	json_t *m;
	json_array_foreach(pl->methods, i, m) {
		const char *name = json_str(m, "name");
		if (lnd_find_method(name))
			return xfmt("method %s is built in", name);
		for (size_t k = 0; k < lnd->nplugins; k++) {
			struct lplugin *o = lnd->plugins[k];
			size_t j;
			json_t *om;
			if (o == pl || o->state == PL_DEAD)
				continue;
			json_array_foreach(o->methods, j, om)
				if (!strcmp(json_str(om, "name"), name))
					return xfmt("method %s already "
						    "registered by %s",
						    name, o->name);
		}
	}
	return NULL;
}

bool lnd_start_plugins(struct lnd *lnd, const char *const *paths, size_t n,
		       const json_t *options, char **err)
{
	struct lplugin **pls = xzalloc(sizeof(*pls) * (n + 1));
	struct start_wait w = {.pls = pls, .n = n};
	bool ok = false;

	*err = NULL;
	for (size_t i = 0; i < n; i++) {
		pls[i] = lplugin_spawn(lnd, paths[i], err);
		if (!pls[i]) {
			w.n = i;
			goto out;
		}
		add_plugin(lnd, pls[i]);
		lplugin_request(pls[i], NULL, "getmanifest",
				json_pack("{s:b}", "allow-deprecated-apis", 0),
				manifest_reply, NULL, NULL);
	}
	w.past = PL_MANIFEST_OK;
	if (!lnd_serve_until(lnd, all_past, &w, lnd->cfg.plugin_timeout_ms)) {
		*err = xfmt("a plugin did not answer getmanifest within %d ms",
			    lnd->cfg.plugin_timeout_ms);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (pls[i]->state == PL_DEAD)
			continue;
		char *clash = method_clash(lnd, pls[i]);
		if (clash) {
			lnd_set_failure(lnd, xfmt("plugin %s: %s", pls[i]->name,
						  clash));
			free(clash);
			kill(pls[i]->pid, SIGKILL);
			lplugin_dead(pls[i], "method clash");
			continue;
		}
		plugin_send_init(pls[i], options, true);
	}
	w.past = PL_RUNNING;
	if (!lnd_serve_until(lnd, all_past, &w, lnd->cfg.plugin_timeout_ms)) {
		*err = xfmt("a plugin did not answer init within %d ms",
			    lnd->cfg.plugin_timeout_ms);
		goto out;
	}
	ok = true;
out:
	if (!ok || lnd->failure) {
		if (!*err)
			*err = xstrdup(lnd->failure ? lnd->failure
						    : "plugin start failed");
		ok = false;
	}
	free(pls);
	return ok;
}

/* ---------- runtime start (the `plugin` command) ---------- */

struct dyn_start {
	struct lnd_req *req;
	struct lplugin *pl;
	json_t *options;
};

static void dyn_init_reply(struct lplugin *pl, const json_t *msg, void *arg)
{
	struct dyn_start *ds = arg;

	init_reply(pl, msg, NULL);
	if (pl->state == PL_RUNNING)
		lnd_req_ok(ds->req, json_pack("{s:s,s:o}", "command", "start",
					      "plugins",
					      lnd_plugin_list_json(pl->lnd)));
	else
		lnd_req_fail(ds->req, ERR_LIGHTNINGD, "%s: %s", pl->name,
			     pl->disable_reason ? pl->disable_reason
						: "plugin failed to start");
	json_decref(ds->options);
	free(ds);
}

static void dyn_manifest_reply(struct lplugin *pl, const json_t *msg,
			       void *arg)
{
	struct dyn_start *ds = arg;
	char *clash;

	manifest_reply(pl, msg, NULL);
	if (pl->state != PL_MANIFEST_OK) {
		lnd_req_fail(ds->req, ERR_LIGHTNINGD,
			     "%s: failed to get a manifest", pl->name);
		json_decref(ds->options);
		free(ds);
		return;
	}
	if (!pl->dynamic) {
		lnd_req_fail(ds->req, ERR_LIGHTNINGD,
			     "%s: plugin is not dynamic", pl->name);
		kill(pl->pid, SIGKILL);
		pl->state = PL_DISABLED;
		json_decref(ds->options);
		free(ds);
		return;
	}
	clash = method_clash(pl->lnd, pl);
	if (clash) {
		lnd_req_fail(ds->req, ERR_LIGHTNINGD, "%s: %s", pl->name,
			     clash);
		free(clash);
		pl->state = PL_DISABLED;
		kill(pl->pid, SIGKILL);
		json_decref(ds->options);
		free(ds);
		return;
	}
	pl->state = PL_INIT;
	lplugin_request(pl, NULL, "init",
			json_pack("{s:o,s:{s:s,s:s,s:b,s:s}}", "options",
				  init_options(pl, ds->options),
				  "configuration", "lightning-dir",
				  pl->lnd->dir, "rpc-file", "lightning-rpc",
				  "startup", 0, "network",
				  pl->lnd->cfg.net->network),
			dyn_init_reply, ds, NULL);
}

void lnd_plugin_start_req(struct lnd_req *req, const char *path,
			  const json_t *options)
{
	struct lnd *lnd = req->lnd;
	struct dyn_start *ds;
	char *err;
	struct lplugin *pl;
	char *real = realpath(path, NULL);

	for (size_t i = 0; real && i < lnd->nplugins; i++) {
		struct lplugin *o = lnd->plugins[i];
		if (o->state != PL_DEAD && !strcmp(o->path, real)) {
			lnd_req_fail(req, ERR_LIGHTNINGD,
				     "%s: already registered", path);
			free(real);
			return;
		}
	}
	free(real);
	pl = lplugin_spawn(lnd, path, &err);
	if (!pl) {
		lnd_req_fail(req, ERR_LIGHTNINGD, "%s", err);
		free(err);
		return;
	}
	add_plugin(lnd, pl);
	ds = xzalloc(sizeof(*ds));
	ds->req = req;
	ds->pl = pl;
	ds->options = options ? json_deep_copy(options) : json_object();
	lplugin_request(pl, NULL, "getmanifest", json_object(),
			dyn_manifest_reply, ds, NULL);
}

/* ---------- setconfig ---------- */

struct setconfig_ctx {
	struct lnd_req *req;
	struct lopt *opt;
	json_t *val;
	char *plugin_path;
};

static void setconfig_reply(struct lplugin *pl, const json_t *msg, void *arg)
{
	struct setconfig_ctx *sc = arg;
	const json_t *err = json_object_get(msg, "error");

	if (!msg) {
		lnd_req_fail(sc->req, ERR_LIGHTNINGD, "plugin died");
	} else if (err) {
		int64_t code = ERR_LIGHTNINGD;
		json_get_i64(err, "code", &code);
		lnd_req_fail(sc->req, (int)code, "%s",
			     json_str(err, "message") ? json_str(err, "message")
						      : "setconfig refused");
	} else {
		json_t *cfg = json_pack("{s:s,s:s,s:s,s:b}", "config",
					sc->opt->name, "source", "setconfig",
					"plugin", sc->plugin_path, "dynamic",
					1);
		json_decref(sc->opt->value);
		sc->opt->value = json_incref(sc->val);
		if (!strcmp(sc->opt->type, "int"))
			json_object_set(cfg, "value_int", sc->val);
		else if (!strcmp(sc->opt->type, "bool"))
			json_object_set(cfg, "value_bool", sc->val);
		else if (!strcmp(sc->opt->type, "flag"))
			json_object_set(cfg, "set", sc->val);
		else
			json_object_set(cfg, "value_str", sc->val);
		lnd_req_ok(sc->req, json_pack("{s:o}", "config", cfg));
	}
	json_decref(sc->val);
	free(sc->plugin_path);
	free(sc);
	(void)pl;
}

void lnd_setconfig_req(struct lnd_req *req, const char *name,
		       const json_t *val)
{
	struct lnd *lnd = req->lnd;
	struct setconfig_ctx *sc;
	struct lplugin *owner = NULL;
	struct lopt *o = NULL;
	json_t *typed = NULL;
	char *err = NULL, *text;

	for (size_t i = 0; i < lnd->nplugins && !o; i++) {
		if (lnd->plugins[i]->state != PL_RUNNING)
			continue;
		o = plugin_opt(lnd->plugins[i], name);
		owner = lnd->plugins[i];
	}
	if (!o) {
		lnd_req_fail(req, ERR_INVALID_PARAMS, "Unknown config option "
						      "%s",
			     name);
		return;
	}
	if (!o->dynamic) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "%s is not a dynamic option", name);
		return;
	}
	if (val) {
		typed = typed_value(o, val, &err);
		if (!typed) {
			lnd_req_fail(req, ERR_INVALID_PARAMS, "%s", err);
			free(err);
			return;
		}
	} else if (!strcmp(o->type, "flag")) {
		typed = json_true();
	} else {
		lnd_req_fail(req, ERR_INVALID_PARAMS, "%s needs a value",
			     name);
		return;
	}
	sc = xzalloc(sizeof(*sc));
	sc->req = req;
	sc->opt = o;
	sc->val = typed;
	sc->plugin_path = xstrdup(owner->path);
	/* lightningd always sends the value as a string. */
	text = json_is_string(typed) ? xstrdup(json_string_value(typed))
				     : json_to_text(typed);
	lplugin_request(owner,
			req->client_id ? json_string_value(req->id) : NULL,
			"setconfig",
			strcmp(o->type, "flag")
				? json_pack("{s:s,s:s}", "config", name, "val",
					    text)
				: json_pack("{s:s}", "config", name),
			setconfig_reply, sc, NULL);
	free(text);
}
