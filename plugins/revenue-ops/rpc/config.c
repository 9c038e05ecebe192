/* revenue-config: read and change runtime settings. A change is validated
 * (type, range, choices, cross-field rules), persisted in one transaction,
 * then applied to memory at once; `reset` removes the override and the
 * option (or default) value applies again immediately. */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/config_overrides.h"
#include <string.h>

static const char *source_of(const struct revenue *r, enum cfg_key k)
{
	struct plugin *p = r->plugin;
	if (r->cfg.overridden[k])
		return "override";
	if (cfg_defs[k].option && plugin_opt_is_set(p, cfg_defs[k].option))
		return "option";
	return "default";
}

static json_t *key_json(const struct revenue *r, enum cfg_key k)
{
	const struct cfg_def *d = &cfg_defs[k];
	static const char *const types[] = {"int", "float", "bool", "string"};
	json_t *o = json_pack("{s:s,s:o,s:s,s:s,s:s,s:b,s:s}", "key", d->key,
			      "value", config_value_json(&r->cfg, k), "type",
			      types[d->type], "default", d->def, "source",
			      source_of(r, k), "mutable",
			      (d->flags & CF_RUNTIME) != 0, "description",
			      d->description);
	if (d->option)
		json_object_set_new(o, "option", json_string(d->option));
	if (d->type == CT_INT)
		json_object_set_new(o, "range",
				    json_pack("[I,I]", (json_int_t)d->min,
					      (json_int_t)d->max));
	else if (d->type == CT_DOUBLE)
		json_object_set_new(o, "range",
				    json_pack("[f,f]", d->min, d->max));
	if (d->choices) {
		json_t *ch = json_array();
		for (const char *const *c = d->choices; *c; c++)
			json_array_append_new(ch, json_string(*c));
		json_object_set_new(o, "choices", ch);
	}
	return o;
}

/* The value @k has without an override: the option's, or the default. */
static char *baseline_value(const struct revenue *r, enum cfg_key k,
			    union cfg_value *out)
{
	const struct cfg_def *d = &cfg_defs[k];
	struct plugin *p = r->plugin;

	if (!d->option)
		return config_parse(k, d->def, out);
	switch (d->type) {
	case CT_INT:
		out->i = plugin_opt_int(p, d->option);
		return NULL;
	case CT_DOUBLE:
		out->d = plugin_opt_double(p, d->option);
		return NULL;
	case CT_BOOL:
		out->b = plugin_opt_bool(p, d->option);
		return NULL;
	case CT_STR:
		return config_parse(k, plugin_opt_str(p, d->option), out);
	}
	return xstrdup("bad type");
}

static void discard(enum cfg_key k, union cfg_value *v)
{
	if (cfg_defs[k].type == CT_STR)
		free(v->s);
}

static void config_get(struct command *cmd, struct revenue *r,
		       const char *key)
{
	if (key) {
		int k = config_key_lookup(key);
		if (k < 0) {
			command_fail(cmd, ERR_NOT_FOUND, NULL,
				     "Unknown config key: %s (see revenue-config "
				     "list-mutable)",
				     key);
			return;
		}
		json_t *o = key_json(r, k);
		json_object_set_new(o, "version",
				    json_integer((json_int_t)r->cfg.version));
		command_ok(cmd, o);
		return;
	}
	json_t *all = json_object();
	for (int k = 0; k < CFG_NUM; k++)
		json_object_set_new(all, cfg_defs[k].key,
				    config_value_json(&r->cfg, k));
	command_ok(cmd, all);
}

void revenue_apply_rpc_timeout(struct revenue *r)
{
	/* A call lightningd never answers must not stall a cycle (or a
	 * command) for ever: it fails, the cycle is skipped and retried. */
	rpc_set_timeout(plugin_rpc(r->plugin),
			(uint64_t)cfg_i(&r->cfg, CFG_RPC_TIMEOUT_SECONDS) * 1000);
}

/* What a changed value sets in motion, besides the new value: a flip of
 * fee_authority_enabled is counted (revenue-fee-authority-status), a new
 * rpc_timeout_seconds applies to the next lightningd calls. */
static void config_changed(struct revenue *r, enum cfg_key k, const char *via)
{
	bool enabled = cfg_b(&r->cfg, CFG_FEE_AUTHORITY_ENABLED);

	if (k == CFG_RPC_TIMEOUT_SECONDS)
		revenue_apply_rpc_timeout(r);
	if (k != CFG_FEE_AUTHORITY_ENABLED ||
	    enabled == r->fee_authority.enabled)
		return;
	r->fee_authority.enabled = enabled;
	r->fee_authority.generation++;
	r->fee_authority.transitioned_at =
	    clock_wall_sec(plugin_clock(r->plugin));
	r->fee_authority.reason = via;
	plugin_log(r->plugin, PLOG_INFO, "fee authority %s (%s)",
		   enabled ? "enabled: fee changes are sent"
			   : "disabled: fee changes are decided, not sent",
		   via);
}

void json_revenue_fee_authority_status(struct command *cmd,
				       const json_t *params)
{
	static const struct param none[] = {{NULL}};
	struct revenue *r = plugin_app(command_plugin(cmd));

	if (!command_params(cmd, params, none))
		return;
	command_ok(cmd,
		   json_pack("{s:s,s:b,s:I,s:I,s:I,s:s?}", "schema",
			     "revenue_ops_fee_authority/v1", "enabled",
			     r->fee_authority.enabled, "generation",
			     (json_int_t)r->fee_authority.generation,
			     "transitioned_at",
			     (json_int_t)r->fee_authority.transitioned_at,
			     "observed_at",
			     (json_int_t)clock_wall_sec(plugin_clock(r->plugin)),
			     "reason", r->fee_authority.reason));
}

/* Persist (or delete) the override, then apply @val in memory. */
static void apply_change(struct command *cmd, struct revenue *r,
			 enum cfg_key k, union cfg_value val, bool is_reset)
{
	char *err = NULL, *old = config_value_text(&r->cfg, k);
	char *text = is_reset ? NULL : config_text_of(k, &val);
	uint64_t now = clock_wall_sec(plugin_clock(r->plugin));

	if (!store_begin(r->db, &err) ||
	    !config_store_override(r->db, k, text, now, &err) ||
	    !store_commit(r->db, &err)) {
		store_rollback(r->db);
		command_fail(cmd, ERR_DATABASE, NULL,
			     "%s: not changed (database: %s)", cfg_defs[k].key,
			     err);
		discard(k, &val);
		free(err);
		free(old);
		free(text);
		return;
	}
	config_set(&r->cfg, k, val, !is_reset);
	config_changed(r, k, "revenue-config");
	plugin_log(r->plugin, PLOG_INFO, "revenue-config %s %s: %s -> %s",
		   is_reset ? "reset" : "set", cfg_defs[k].key, old,
		   text ? text : "(option/default)");
	command_ok(cmd, json_pack("{s:s,s:s,s:s,s:o,s:I,s:s}", "status",
				  "success", "key", cfg_defs[k].key,
				  "old_value", old, "new_value",
				  config_value_json(&r->cfg, k), "version",
				  (json_int_t)r->cfg.version, "source",
				  source_of(r, k)));
	free(old);
	free(text);
}

void json_revenue_config(struct command *cmd, const json_t *params)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	const char *action = "get", *key = NULL;
	const json_t *value = NULL;
	const struct param ps[] = {
		{"action", PARAM_STRING, false, &action},
		{"key", PARAM_STRING, false, &key},
		{"value", PARAM_JSON, false, &value},
		{NULL},
	};
	int k;
	union cfg_value v;
	char *err, *text;

	if (!command_params(cmd, params, ps))
		return;
	if (!strcmp(action, "get")) {
		config_get(cmd, r, key);
		return;
	}
	if (!strcmp(action, "list-mutable")) {
		json_t *names = json_array(), *details = json_object();
		for (k = 0; k < CFG_NUM; k++) {
			if (!(cfg_defs[k].flags & CF_RUNTIME))
				continue;
			json_array_append_new(names,
					      json_string(cfg_defs[k].key));
			json_object_set_new(details, cfg_defs[k].key,
					    key_json(r, k));
		}
		command_ok(cmd, json_pack("{s:o,s:o}", "mutable_keys", names,
					  "keys", details));
		return;
	}
	if (strcmp(action, "set") && strcmp(action, "reset")) {
		command_fail(cmd, ERR_INVALID_PARAMS, NULL,
			     "action: should be get, set, reset or "
			     "list-mutable, not '%s'",
			     action);
		return;
	}
	if (!key) {
		command_fail(cmd, ERR_INVALID_PARAMS, NULL,
			     "%s needs a key (see revenue-config list-mutable)",
			     action);
		return;
	}
	k = config_key_lookup(key);
	if (k < 0) {
		command_fail(cmd, ERR_NOT_FOUND, NULL,
			     "Unknown config key: %s (see revenue-config "
			     "list-mutable)",
			     key);
		return;
	}
	if (!(cfg_defs[k].flags & CF_RUNTIME)) {
		command_fail(cmd, ERR_PERMISSION, NULL,
			     "Key '%s' cannot be changed at runtime: set %s in "
			     "the config file and restart",
			     key, cfg_defs[k].option ? cfg_defs[k].option : key);
		return;
	}
	if (!strcmp(action, "reset")) {
		err = baseline_value(r, k, &v);
	} else {
		if (!value || json_is_null(value)) {
			command_fail(cmd, ERR_INVALID_PARAMS, NULL,
				     "set needs a value for %s", key);
			return;
		}
		if (json_is_string(value))
			text = xstrdup(json_string_value(value));
		else if (json_is_integer(value))
			text = xfmt("%lld", (long long)json_integer_value(value));
		else if (json_is_real(value))
			text = xfmt("%.17g", json_real_value(value));
		else if (json_is_boolean(value))
			text = xstrdup(json_is_true(value) ? "true" : "false");
		else {
			command_fail(cmd, ERR_INVALID_PARAMS, NULL,
				     "value for %s must be a string, number or "
				     "boolean",
				     key);
			return;
		}
		err = config_parse(k, text, &v);
		free(text);
		if (err) {
			command_fail(cmd, ERR_OUT_OF_RANGE, NULL, "%s", err);
			free(err);
			return;
		}
	}
	if (err) {
		command_fail(cmd, ERR_INTERNAL, NULL, "%s", err);
		free(err);
		return;
	}
	err = config_cross_check(&r->cfg, k, &v);
	if (err) {
		command_fail(cmd, ERR_CONFLICT, NULL, "%s", err);
		free(err);
		discard(k, &v);
		return;
	}
	apply_change(cmd, r, k, v, !strcmp(action, "reset"));
}

char *revenue_on_setconfig(struct plugin *p, const char *name)
{
	struct revenue *r = plugin_app(p);
	int k = config_option_lookup(name);
	union cfg_value v;
	char *err;

	if (k < 0) {
		plugin_log(p, PLOG_INFO,
			   "%s changed; it is accepted for compatibility and "
			   "has no effect",
			   name);
		return NULL;
	}
	if (r->cfg.overridden[k]) {
		char *cur = config_value_text(&r->cfg, k);
		err = xfmt("%s is set to %s by a revenue-config override, "
			   "which takes precedence: use `revenue-config set "
			   "%s <value>` or `revenue-config reset %s`",
			   name, cur, cfg_defs[k].key, cfg_defs[k].key);
		free(cur);
		return err;
	}
	err = baseline_value(r, k, &v);
	if (err)
		return err;
	err = config_cross_check(&r->cfg, k, &v);
	if (err) {
		discard(k, &v);
		return err;
	}
	config_set(&r->cfg, k, v, false);
	config_changed(r, k, "setconfig");
	return NULL;
}
