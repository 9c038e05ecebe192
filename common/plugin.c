/* Plugin protocol runtime; see plugin.h. */
#include "common/plugin.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/rpc.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

struct optval {
	json_t *val;	  /* canonical current value, or NULL (unset, no default) */
	bool set;	  /* given explicitly */
	const char **multi; /* cached string view of a multi option */
	size_t nmulti;
};

enum plugin_state { ST_MANIFEST, ST_RUNNING, ST_DISABLED };

struct plugin {
	const struct plugin_spec *spec;
	void *app;
	struct clock *clk;
	struct loop *loop;
	struct rpc *rpc;
	struct jsonrpc_conn *io; /* stdin/stdout */
	struct optval *opts;
	enum plugin_state state;
	bool booted;
	bool sim_clock;
	uint64_t seed;
	json_t *tick_id; /* a hive-sim-tick waiting for idle */
	/* The instant that tick moves the clock to, held while calls to
	 * lightningd are in flight (0: applied). */
	uint64_t tick_to_ms;
	bool shutting_down;
	bool shutdown_called;
	int exit_code;
};

struct command {
	struct plugin *plugin;
	json_t *id;
	char *id_text;
	char *method;
};

static void do_shutdown(struct plugin *p, const char *why);

/* ---------- small accessors ---------- */

void *plugin_app(const struct plugin *p) { return p->app; }
struct loop *plugin_loop(const struct plugin *p) { return p->loop; }
struct rpc *plugin_rpc(const struct plugin *p) { return p->rpc; }
struct clock *plugin_clock(const struct plugin *p) { return p->clk; }
const char *plugin_name(const struct plugin *p) { return p->spec->name; }
uint64_t plugin_seed(const struct plugin *p) { return p->seed; }
bool plugin_started_at_boot(const struct plugin *p) { return p->booted; }

struct plugin *command_plugin(const struct command *cmd) { return cmd->plugin; }
const char *command_id(const struct command *cmd) { return cmd->id_text; }
const char *command_method(const struct command *cmd) { return cmd->method; }

/* ---------- output ---------- */

static void send_json(struct plugin *p, json_t *msg)
{
	if (!jsonrpc_conn_send(p->io, msg) && !p->shutting_down)
		do_shutdown(p, "stdout closed");
}

void plugin_log(struct plugin *p, enum plugin_log_level level,
		const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	/* lightningd logs one entry per notification: split lines so a
	 * multi-line message stays readable. */
	for (char *line = msg, *nl; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (!*line && nl)
			continue;
		send_json(p, json_pack("{s:s,s:s,s:{s:s,s:s}}", "jsonrpc",
				       "2.0", "method", "log", "params",
				       "level", names[level], "message",
				       line));
	}
	free(msg);
}

void plugin_notify(struct plugin *p, const char *topic, json_t *payload)
{
	send_json(p, json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method",
			       topic, "params", payload));
}

static void reply_raw(struct plugin *p, json_t *id, json_t *result)
{
	send_json(p, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id,
			       "result", result));
}

static void reply_error(struct plugin *p, json_t *id, int code,
			json_t *data, const char *msg)
{
	json_t *err = json_pack("{s:i,s:s}", "code", code, "message", msg);
	if (data)
		json_object_set_new(err, "data", data);
	send_json(p, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id,
			       "error", err));
}

/* ---------- commands ---------- */

static struct command *command_new(struct plugin *p, json_t *id,
				   const char *method)
{
	struct command *cmd = xzalloc(sizeof(*cmd));

	cmd->plugin = p;
	cmd->id = json_incref(id);
	if (json_is_string(id))
		cmd->id_text = xstrdup(json_string_value(id));
	else
		cmd->id_text = json_to_text(id);
	cmd->method = xstrdup(method);
	return cmd;
}

static void command_free(struct command *cmd)
{
	json_decref(cmd->id);
	free(cmd->id_text);
	free(cmd->method);
	free(cmd);
}

void command_ok(struct command *cmd, json_t *result)
{
	reply_raw(cmd->plugin, cmd->id, result);
	command_free(cmd);
}

void command_fail(struct command *cmd, int code, json_t *data,
		  const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	reply_error(cmd->plugin, cmd->id, code, data, msg);
	free(msg);
	command_free(cmd);
}

/* ---------- options ---------- */

static const char *opt_type_name(enum plugin_opt_type t)
{
	switch (t) {
	case POPT_INT:
	case POPT_INT_MULTI:
		return "int";
	case POPT_BOOL:
		return "bool";
	case POPT_FLAG:
		return "flag";
	case POPT_STRING:
	case POPT_DOUBLE:
	case POPT_STRING_MULTI:
		return "string";
	}
	return "string";
}

static bool opt_is_multi(const struct plugin_option *o)
{
	return o->type == POPT_STRING_MULTI || o->type == POPT_INT_MULTI;
}

/* Text form of a scalar JSON value as lightningd would have given it. */
static char *scalar_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xfmt("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xfmt("%.17g", json_real_value(v));
	if (json_is_true(v))
		return xstrdup("true");
	if (json_is_false(v))
		return xstrdup("false");
	return NULL;
}

static char *range_error(const struct plugin_option *o, double v)
{
	if (o->has_range && (v < o->min || v > o->max))
		return xfmt("%s=%.15g is out of range: must be between %.15g "
			    "and %.15g",
			    o->name, v, o->min, o->max);
	return NULL;
}

static char *parse_scalar(const struct plugin_option *o, enum plugin_opt_type t,
			  const json_t *val, json_t **out)
{
	char *text = scalar_text(val), *err = NULL;

	if (!text)
		return xfmt("%s: expected a %s value", o->name,
			    opt_type_name(t));
	switch (t) {
	case POPT_INT:
	case POPT_INT_MULTI: {
		long long i;
		if (!str_to_i64(text, &i)) {
			err = xfmt("%s='%s' is not an integer", o->name, text);
			break;
		}
		if ((err = range_error(o, (double)i)) == NULL)
			*out = json_integer(i);
		break;
	}
	case POPT_DOUBLE: {
		double d;
		if (!str_to_double(text, &d)) {
			err = xfmt("%s='%s' is not a number", o->name, text);
			break;
		}
		if ((err = range_error(o, d)) == NULL)
			*out = json_real(d);
		break;
	}
	case POPT_BOOL:
	case POPT_FLAG:
		/* lightningd accepts these spellings for bool options. */
		if (!strcmp(text, "true") || !strcmp(text, "1") ||
		    !strcmp(text, "yes") || !strcmp(text, "on"))
			*out = json_true();
		else if (!strcmp(text, "false") || !strcmp(text, "0") ||
			 !strcmp(text, "no") || !strcmp(text, "off"))
			*out = json_false();
		else
			err = xfmt("%s='%s' is not a boolean (true/false)",
				   o->name, text);
		break;
	case POPT_STRING:
	case POPT_STRING_MULTI:
		if (o->choices) {
			bool ok = false;
			for (const char *const *c = o->choices; *c; c++)
				ok |= !strcmp(*c, text);
			if (!ok) {
				char *list = xstrdup("");
				for (const char *const *c = o->choices; *c;
				     c++) {
					char *n = xfmt("%s%s%s", list,
						       *list ? ", " : "", *c);
					free(list);
					list = n;
				}
				err = xfmt("%s='%s' must be one of: %s",
					   o->name, text, list);
				free(list);
				break;
			}
		}
		*out = json_string(text);
		break;
	}
	free(text);
	return err;
}

char *plugin_option_parse(const struct plugin_option *opt, const json_t *val,
			  json_t **out)
{
	*out = NULL;
	if (opt_is_multi(opt)) {
		json_t *arr = json_array();
		enum plugin_opt_type t =
			opt->type == POPT_INT_MULTI ? POPT_INT : POPT_STRING;
		if (!json_is_array(val)) {
			/* A single value for a multi option is one entry. */
			json_t *one;
			char *err = parse_scalar(opt, t, val, &one);
			if (err) {
				json_decref(arr);
				return err;
			}
			json_array_append_new(arr, one);
		} else {
			size_t i;
			json_t *v;
			json_array_foreach(val, i, v) {
				json_t *one;
				char *err = parse_scalar(opt, t, v, &one);
				if (err) {
					json_decref(arr);
					return err;
				}
				json_array_append_new(arr, one);
			}
		}
		*out = arr;
		return NULL;
	}
	return parse_scalar(opt, opt->type, val, out);
}

static ssize_t opt_index(const struct plugin *p, const char *name)
{
	for (size_t i = 0; i < p->spec->num_options; i++)
		if (!strcmp(p->spec->options[i].name, name))
			return (ssize_t)i;
	return -1;
}

static void opt_store(struct plugin *p, size_t i, json_t *val, bool set)
{
	struct optval *ov = &p->opts[i];

	json_decref(ov->val);
	free(ov->multi);
	ov->multi = NULL;
	ov->nmulti = 0;
	ov->val = val;
	ov->set = set;
	if (val && json_is_array(val)) {
		size_t j;
		json_t *v;
		ov->multi = xzalloc(sizeof(char *) * (json_array_size(val) + 1));
		json_array_foreach(val, j, v) {
			/* Int multis keep their text form for the view. */
			if (!json_is_string(v)) {
				char *t = scalar_text(v);
				json_array_set_new(val, j, json_string(t));
				free(t);
				v = json_array_get(val, j);
			}
			ov->multi[ov->nmulti++] = json_string_value(v);
		}
	}
}

static const struct optval *opt_get(const struct plugin *p, const char *name,
				    enum plugin_opt_type want)
{
	ssize_t i = opt_index(p, name);
	if (i < 0 || p->spec->options[i].type != want) {
		fprintf(stderr, "%s: option %s read as wrong type or not "
				"declared\n",
			p->spec->name, name);
		abort();
	}
	return &p->opts[i];
}

const char *plugin_opt_str(const struct plugin *p, const char *name)
{
	return json_string_value(opt_get(p, name, POPT_STRING)->val);
}

int64_t plugin_opt_int(const struct plugin *p, const char *name)
{
	return json_integer_value(opt_get(p, name, POPT_INT)->val);
}

bool plugin_opt_bool(const struct plugin *p, const char *name)
{
	ssize_t i = opt_index(p, name);
	if (i >= 0 && p->spec->options[i].type == POPT_FLAG)
		return json_is_true(p->opts[i].val);
	return json_is_true(opt_get(p, name, POPT_BOOL)->val);
}

double plugin_opt_double(const struct plugin *p, const char *name)
{
	return json_number_value(opt_get(p, name, POPT_DOUBLE)->val);
}

size_t plugin_opt_multi(const struct plugin *p, const char *name,
			const char *const **vals)
{
	ssize_t i = opt_index(p, name);
	if (i < 0 || !opt_is_multi(&p->spec->options[i]))
		abort();
	*vals = p->opts[i].multi;
	return p->opts[i].nmulti;
}

bool plugin_opt_is_set(const struct plugin *p, const char *name)
{
	ssize_t i = opt_index(p, name);
	if (i < 0)
		abort();
	return p->opts[i].set;
}

json_t *plugin_opt_json(const struct plugin *p, const char *name)
{
	ssize_t i = opt_index(p, name);
	if (i < 0)
		abort();
	return p->opts[i].val ? json_deep_copy(p->opts[i].val) : json_null();
}

/* Defaults first, so every option has its value before init overrides. */
static char *load_defaults(struct plugin *p)
{
	for (size_t i = 0; i < p->spec->num_options; i++) {
		const struct plugin_option *o = &p->spec->options[i];
		json_t *v = NULL;
		if (o->type == POPT_FLAG) {
			v = json_false();
		} else if (opt_is_multi(o)) {
			v = json_array();
		} else if (o->def) {
			json_t *raw = json_string(o->def);
			char *err = parse_scalar(o, o->type, raw, &v);
			json_decref(raw);
			if (err) {
				char *e = xfmt("built-in default invalid: %s",
					       err);
				free(err);
				return e;
			}
		}
		opt_store(p, i, v, false);
	}
	return NULL;
}

/* ---------- manifest ---------- */

static json_t *name_array(const char *const *names)
{
	json_t *a = json_array();
	for (; names && *names; names++)
		json_array_append_new(a, json_string(*names));
	return a;
}

json_t *plugin_manifest_json(const struct plugin_spec *spec)
{
	json_t *m = json_object(), *opts = json_array(), *methods = json_array(),
	       *subs = json_array(), *hooks = json_array(),
	       *notifs = json_array(), *msgs = json_array();
	bool have_shutdown = false;

	for (size_t i = 0; i < spec->num_options; i++) {
		const struct plugin_option *o = &spec->options[i];
		bool as_string = spec->lenient_option_types &&
				 o->type != POPT_FLAG;
		json_t *jo = json_pack("{s:s,s:s,s:s}", "name", o->name,
				       "type",
				       as_string ? "string"
						 : opt_type_name(o->type),
				       "description", o->description);
		if (o->def && as_string && !opt_is_multi(o)) {
			json_object_set_new(jo, "default", json_string(o->def));
		} else if (o->def && o->type != POPT_FLAG && !opt_is_multi(o)) {
			/* Typed defaults: lightningd parses them as it
			 * parses the option itself. */
			json_t *raw = json_string(o->def), *v = NULL;
			char *err = parse_scalar(o, o->type, raw, &v);
			json_decref(raw);
			if (err) {
				free(err);
				v = json_string(o->def);
			} else if (o->type == POPT_DOUBLE) {
				json_decref(v);
				v = json_string(o->def);
			}
			json_object_set_new(jo, "default", v);
		}
		if (opt_is_multi(o))
			json_object_set_new(jo, "multi", json_true());
		if (o->dynamic)
			json_object_set_new(jo, "dynamic", json_true());
		json_array_append_new(opts, jo);
	}
	for (size_t i = 0; i < spec->num_methods; i++) {
		const struct plugin_method *me = &spec->methods[i];
		json_array_append_new(
			methods,
			json_pack("{s:s,s:s,s:s}", "name", me->name, "usage",
				  me->usage ? me->usage : "", "description",
				  me->description));
	}
	for (size_t i = 0; i < spec->num_subscriptions; i++) {
		json_array_append_new(
			subs, json_string(spec->subscriptions[i].topic));
		have_shutdown |= !strcmp(spec->subscriptions[i].topic,
					 "shutdown");
	}
	/* Always: a clean exit needs it. */
	if (!have_shutdown)
		json_array_append_new(subs, json_string("shutdown"));
	for (size_t i = 0; i < spec->num_hooks; i++) {
		const struct plugin_hook *h = &spec->hooks[i];
		json_t *jh = json_pack("{s:s}", "name", h->name);
		if (h->before)
			json_object_set_new(jh, "before", name_array(h->before));
		if (h->after)
			json_object_set_new(jh, "after", name_array(h->after));
		if (h->num_filters) {
			json_t *f = json_array();
			for (size_t j = 0; j < h->num_filters; j++)
				json_array_append_new(
					f, json_integer(h->filters[j]));
			json_object_set_new(jh, "filters", f);
		}
		json_array_append_new(hooks, jh);
	}
	for (size_t i = 0; i < spec->num_notification_topics; i++)
		json_array_append_new(
			notifs, json_pack("{s:s}", "method",
					  spec->notification_topics[i]));
	for (size_t i = 0; i < spec->num_custommessages; i++)
		json_array_append_new(msgs,
				      json_integer(spec->custommessages[i]));

	json_object_set_new(m, "options", opts);
	json_object_set_new(m, "rpcmethods", methods);
	json_object_set_new(m, "subscriptions", subs);
	json_object_set_new(m, "hooks", hooks);
	json_object_set_new(m, "notifications", notifs);
	json_object_set_new(m, "custommessages", msgs);
	json_object_set_new(m, "nonnumericids", json_true());
	json_object_set_new(m, "dynamic", json_boolean(spec->dynamic));
	return m;
}

/* ---------- init ---------- */

static char *apply_init_options(struct plugin *p, const json_t *options)
{
	const char *key;
	json_t *val;

	if (!options)
		return NULL;
	if (!json_is_object(options))
		return xstrdup("init: 'options' is not an object");
	json_object_foreach((json_t *)options, key, val) {
		ssize_t i = opt_index(p, key);
		json_t *parsed;
		char *err;

		if (i < 0)
			continue; /* not ours: ignore, as lightningd may add */
		err = plugin_option_parse(&p->spec->options[i], val, &parsed);
		if (err)
			return err;
		/* lightningd sends every option, defaults included; "set"
		 * means it differs from our default. */
		bool set = !p->opts[i].val || !json_equal(parsed, p->opts[i].val);
		opt_store(p, (size_t)i, parsed, set);
	}
	return NULL;
}

static void handle_init(struct plugin *p, json_t *id, const json_t *params)
{
	const json_t *conf = json_object_get(params, "configuration");
	const char *dir = json_str(conf, "lightning-dir");
	const char *rpcfile = json_str(conf, "rpc-file");
	char *reason = NULL;
	bool startup = true;

	json_get_bool(conf, "startup", &startup);
	p->booted = startup;

	reason = apply_init_options(p, json_object_get(params, "options"));
	if (!reason && (!dir || !rpcfile))
		reason = xstrdup("init: configuration lacks lightning-dir or "
				 "rpc-file");
	if (!reason && chdir(dir) != 0)
		reason = xfmt("cannot chdir to lightning-dir %s: %s", dir,
			      strerror(errno));
	if (!reason) {
		char *err;
		if (!rpc_connect(p->rpc, rpcfile, &err)) {
			reason = xfmt("cannot connect to lightning-rpc: %s",
				      err);
			free(err);
		}
	}
	if (!reason && p->spec->init)
		reason = p->spec->init(p, conf);

	if (reason) {
		plugin_log(p, PLOG_ERROR, "disabled: %s", reason);
		reply_raw(p, id, json_pack("{s:s}", "disable", reason));
		free(reason);
		p->state = ST_DISABLED;
		return;
	}
	p->state = ST_RUNNING;
	reply_raw(p, id, json_object());
}

/* ---------- setconfig ---------- */

static void handle_setconfig(struct plugin *p, json_t *id,
			     const json_t *params)
{
	const char *name = json_str(params, "config");
	const json_t *val = json_object_get(params, "val");
	const struct plugin_option *o;
	json_t *parsed, *old;
	bool old_set;
	ssize_t i;
	char *err;

	if (!name) {
		reply_error(p, id, ERR_INVALID_PARAMS, NULL,
			    "setconfig: missing 'config'");
		return;
	}
	i = opt_index(p, name);
	if (i < 0) {
		reply_error(p, id, ERR_INVALID_PARAMS, NULL,
			    "setconfig: unknown option");
		return;
	}
	o = &p->spec->options[i];
	if (!o->dynamic) {
		char *m = xfmt("%s is not dynamic: set it in the config file "
			       "and restart the plugin", name);
		reply_error(p, id, ERR_INVALID_PARAMS, NULL, m);
		free(m);
		return;
	}
	/* A flag set without a value means "on". */
	json_t *implicit = NULL;
	if (!val && o->type == POPT_FLAG)
		val = implicit = json_true();
	if (!val) {
		reply_error(p, id, ERR_INVALID_PARAMS, NULL,
			    "setconfig: missing 'val'");
		return;
	}
	err = plugin_option_parse(o, val, &parsed);
	json_decref(implicit);
	if (err) {
		reply_error(p, id, ERR_INVALID_PARAMS, NULL, err);
		free(err);
		return;
	}
	old = p->opts[i].val ? json_incref(p->opts[i].val) : NULL;
	old_set = p->opts[i].set;
	opt_store(p, (size_t)i, parsed, true);
	err = p->spec->on_setconfig ? p->spec->on_setconfig(p, name) : NULL;
	if (err) {
		opt_store(p, (size_t)i, old, old_set);
		reply_error(p, id, ERR_INVALID_PARAMS, NULL, err);
		free(err);
		return;
	}
	json_decref(old);
	plugin_log(p, PLOG_INFO, "option %s changed by setconfig", name);
	reply_raw(p, id, json_object());
}

/* ---------- parameters ---------- */

static const char *param_type_name(enum param_type t)
{
	static const char *const n[] = {
		[PARAM_STRING] = "a string",
		[PARAM_INT] = "an integer",
		[PARAM_UINT] = "a non-negative integer",
		[PARAM_BOOL] = "true or false",
		[PARAM_DOUBLE] = "a number",
		[PARAM_MSAT] = "an amount in msat",
		[PARAM_SCID] = "a short_channel_id (BLOCKxTXxOUT)",
		[PARAM_PUBKEY] = "a node id (66 hex characters)",
		[PARAM_JSON] = "a JSON value",
	};
	return n[t];
}

static bool param_convert(const struct param *s, const json_t *v)
{
	const char *str = json_string_value(v);

	switch (s->type) {
	case PARAM_STRING:
		if (!str)
			return false;
		*(const char **)s->out = str;
		return true;
	case PARAM_SCID:
		if (!str || !scid_valid(str))
			return false;
		*(const char **)s->out = str;
		return true;
	case PARAM_PUBKEY:
		if (!str || !pubkey_hex_valid(str))
			return false;
		*(const char **)s->out = str;
		return true;
	case PARAM_INT: {
		long long i;
		if (json_is_integer(v))
			i = json_integer_value(v);
		else if (!str || !str_to_i64(str, &i))
			return false;
		*(int64_t *)s->out = i;
		return true;
	}
	case PARAM_UINT: {
		unsigned long long u;
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			u = (unsigned long long)json_integer_value(v);
		else if (!str || !str_to_u64(str, &u))
			return false;
		*(uint64_t *)s->out = u;
		return true;
	}
	case PARAM_MSAT:
		return json_value_msat(v, (uint64_t *)s->out);
	case PARAM_DOUBLE: {
		double d;
		if (json_is_number(v))
			d = json_number_value(v);
		else if (!str || !str_to_double(str, &d))
			return false;
		*(double *)s->out = d;
		return true;
	}
	case PARAM_BOOL:
		if (json_is_boolean(v))
			*(bool *)s->out = json_is_true(v);
		else if (str && !strcmp(str, "true"))
			*(bool *)s->out = true;
		else if (str && !strcmp(str, "false"))
			*(bool *)s->out = false;
		else
			return false;
		return true;
	case PARAM_JSON:
		*(const json_t **)s->out = v;
		return true;
	}
	return false;
}

static bool param_one(struct command *cmd, const struct param *s,
		      const json_t *v)
{
	if (!v || json_is_null(v)) {
		if (s->required) {
			command_fail(cmd, ERR_INVALID_PARAMS, NULL,
				     "missing required parameter: %s",
				     s->name);
			return false;
		}
		return true;
	}
	if (!param_convert(s, v)) {
		char *got = json_to_text(v);
		command_fail(cmd, ERR_INVALID_PARAMS, NULL,
			     "%s: should be %s, not %.60s", s->name,
			     param_type_name(s->type), got);
		free(got);
		return false;
	}
	if (s->present)
		*s->present = true;
	return true;
}

bool command_params(struct command *cmd, const json_t *params,
		    const struct param *specs)
{
	size_t n = 0;

	while (specs[n].name)
		n++;
	if (!params || json_is_null(params))
		params = NULL;
	if (params && json_is_array(params)) {
		if (json_array_size(params) > n) {
			command_fail(cmd, ERR_INVALID_PARAMS, NULL,
				     "too many parameters: %s takes at most "
				     "%zu",
				     cmd->method, n);
			return false;
		}
		for (size_t i = 0; i < n; i++)
			if (!param_one(cmd, &specs[i],
				       json_array_get(params, i)))
				return false;
		return true;
	}
	if (params && !json_is_object(params)) {
		command_fail(cmd, ERR_INVALID_PARAMS, NULL,
			     "params must be an array or an object");
		return false;
	}
	if (params) {
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)params, key, v) {
			bool known = false;
			for (size_t i = 0; i < n; i++)
				known |= !strcmp(specs[i].name, key);
			if (!known) {
				command_fail(cmd, ERR_INVALID_PARAMS, NULL,
					     "unknown parameter: %s", key);
				return false;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!param_one(cmd, &specs[i],
			       params ? json_object_get(params, specs[i].name)
				      : NULL))
			return false;
	return true;
}

/* ---------- simulator tick ---------- */

/* Work started at one simulated instant finishes at that instant, as on a
 * node where lightningd answers in milliseconds: a tick that arrives while
 * calls are in flight moves the clock only once they are answered. Moving
 * it earlier would also make reply deadlines fire on simulated jumps that
 * are not lightningd's latency, and make runs depend on the race between
 * the tick and the replies. */
static void apply_held_tick(struct plugin *p)
{
	if (!p->tick_to_ms || rpc_in_flight(p->rpc))
		return;
	/* handle_tick checked the instant against the clock, and only
	 * ticks move it, so this is never refused. */
	if (!clock_set_simulated_ms(p->clk, p->tick_to_ms))
		plugin_log(p, PLOG_ERROR, "hive-sim-tick: clock refused %llu",
			   (unsigned long long)p->tick_to_ms);
	p->tick_to_ms = 0;
}

static bool plugin_idle(struct plugin *p)
{
	return !p->tick_to_ms && rpc_in_flight(p->rpc) == 0 &&
	       loop_due_timers(p->loop) == 0 &&
	       !(p->spec->busy && p->state == ST_RUNNING && p->spec->busy(p));
}

static void maybe_answer_tick(struct plugin *p)
{
	uint64_t next;
	json_t *res;

	if (!p->tick_id || !plugin_idle(p))
		return;
	next = loop_next_deadline_ms(p->loop);
	res = json_pack("{s:b}", "idle", 1);
	json_object_set_new(res, "next_deadline_ms",
			    next == UINT64_MAX ? json_null()
					       : json_integer((json_int_t)next));
	reply_raw(p, p->tick_id, res);
	json_decref(p->tick_id);
	p->tick_id = NULL;
}

static void handle_tick(struct plugin *p, json_t *id, const json_t *params)
{
	uint64_t now;

	if (!json_get_u64(params, "now_ms", &now) || now == 0 ||
	    now < clock_mono_ms(p->clk) || now < p->tick_to_ms) {
		reply_error(p, id, ERR_INVALID_PARAMS, NULL,
			    "hive-sim-tick: now_ms missing or in the past");
		return;
	}
	json_decref(p->tick_id);
	p->tick_id = json_incref(id);
	p->tick_to_ms = now;
	apply_held_tick(p);
}

/* ---------- dispatch ---------- */

static const char *unwrap_name(const json_t *params)
{
	if (json_is_object(params) && json_object_size(params) == 1) {
		const char *key = json_object_iter_key(
			json_object_iter((json_t *)params));
		if (json_is_object(json_object_get(params, key)))
			return key;
	}
	return NULL;
}

static void handle_notification(struct plugin *p, const char *method,
				const json_t *params)
{
	if (!strcmp(method, "shutdown")) {
		do_shutdown(p, NULL);
		return;
	}
	if (p->state != ST_RUNNING)
		return;
	for (size_t i = 0; i < p->spec->num_subscriptions; i++) {
		const struct plugin_subscription *s = &p->spec->subscriptions[i];
		if (strcmp(s->topic, method) && strcmp(s->topic, "*"))
			continue;
		/* v23.08+ wraps the payload in an object named after the
		 * topic; earlier versions sent it flat. */
		const char *w = unwrap_name(params);
		const json_t *payload = params;
		if (w && !strcmp(w, method))
			payload = json_object_get(params, w);
		s->handler(p, payload);
	}
}

static void handle_request(struct plugin *p, json_t *id, const char *method,
			   const json_t *params)
{
	if (!strcmp(method, "getmanifest")) {
		reply_raw(p, id, plugin_manifest_json(p->spec));
		return;
	}
	if (!strcmp(method, "init")) {
		if (p->state != ST_MANIFEST) {
			reply_error(p, id, ERR_INVALID_REQUEST, NULL,
				    "init called twice");
			return;
		}
		handle_init(p, id, params);
		return;
	}
	if (p->sim_clock && !strcmp(method, "hive-sim-tick")) {
		handle_tick(p, id, params);
		return;
	}
	for (size_t i = 0; i < p->spec->num_hooks; i++) {
		const struct plugin_hook *h = &p->spec->hooks[i];
		if (strcmp(h->name, method))
			continue;
		/* Answer first whatever happens, then act: lightningd must
		 * never wait on our processing or our bugs. */
		reply_raw(p, id, json_pack("{s:s}", "result", "continue"));
		if (h->handler && p->state == ST_RUNNING)
			h->handler(p, params);
		return;
	}
	if (!strcmp(method, "setconfig")) {
		if (p->state != ST_RUNNING)
			reply_error(p, id, ERR_NOT_READY, NULL,
				    "plugin not initialised");
		else
			handle_setconfig(p, id, params);
		return;
	}
	for (size_t i = 0; i < p->spec->num_methods; i++) {
		const struct plugin_method *m = &p->spec->methods[i];
		if (strcmp(m->name, method))
			continue;
		if (p->state != ST_RUNNING) {
			reply_error(p, id, ERR_NOT_READY, NULL,
				    p->state == ST_DISABLED
					    ? "plugin is disabled (see log)"
					    : "plugin not initialised yet");
			return;
		}
		m->handler(command_new(p, id, method), params);
		return;
	}
	char *msg = xfmt("unknown method: %s", method);
	reply_error(p, id, ERR_METHOD_NOT_FOUND, NULL, msg);
	free(msg);
}

static void on_stdin_message(struct jsonrpc_conn *c UNUSED, json_t *msg,
			     void *arg)
{
	struct plugin *p = arg;
	const char *method = json_str(msg, "method");
	json_t *id = json_object_get(msg, "id");
	const json_t *params = json_object_get(msg, "params");

	if (!json_is_object(msg) || !json_is_string(json_object_get(msg, "jsonrpc"))) {
		plugin_log(p, PLOG_WARN,
			   "ignoring message without a \"jsonrpc\" field");
		if (id && method)
			reply_error(p, id, ERR_INVALID_REQUEST, NULL,
				    "missing jsonrpc field");
		return;
	}
	if (!method) {
		/* A response: lightningd never sends us those on stdin. */
		plugin_log(p, PLOG_WARN, "ignoring message without method");
		return;
	}
	if (params && !json_is_object(params) && !json_is_array(params)) {
		/* A hook is answered whatever its input: lightningd treats
		 * an error reply to a hook as fatal. */
		for (size_t i = 0; id && i < p->spec->num_hooks; i++) {
			if (strcmp(p->spec->hooks[i].name, method))
				continue;
			plugin_log(p, PLOG_WARN,
				   "hook %s: params are not an object",
				   method);
			reply_raw(p, id,
				  json_pack("{s:s}", "result", "continue"));
			return;
		}
		if (id)
			reply_error(p, id, ERR_INVALID_PARAMS, NULL,
				    "params must be an array or an object");
		return;
	}
	if (!id)
		handle_notification(p, method, params);
	else
		handle_request(p, id, method, params);
}

static void on_stdin_bad(struct jsonrpc_conn *c UNUSED, const char *err,
			 void *arg)
{
	plugin_log(arg, PLOG_WARN, "bad input from lightningd: %s", err);
}

static void on_stdin_close(struct jsonrpc_conn *c UNUSED, const char *err,
			   void *arg)
{
	struct plugin *p = arg;
	if (err)
		plugin_log(p, PLOG_WARN, "stdin: %s", err);
	do_shutdown(p, "stdin closed");
}

static const struct jsonrpc_conn_ops stdin_ops = {
	.on_message = on_stdin_message,
	.on_bad = on_stdin_bad,
	.on_close = on_stdin_close,
};

static void do_shutdown(struct plugin *p, const char *why UNUSED)
{
	if (p->shutting_down)
		return;
	p->shutting_down = true;
	loop_stop(p->loop, 0);
}

static uint64_t seed_for(const char *name)
{
	const char *s = getenv("HIVE_SIM_SEED");
	uint64_t seed = 0;
	unsigned long long v;

	if (s && str_to_u64(s, &v)) {
		/* FNV-1a of the name, so each plugin draws its own
		 * reproducible stream. */
		seed = 1469598103934665603ULL;
		for (const char *c = name; *c; c++)
			seed = (seed ^ (unsigned char)*c) * 1099511628211ULL;
		return seed ^ v;
	}
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL;
	return seed;
}

int plugin_main(const struct plugin_spec *spec, int argc, char **argv,
		void *app)
{
	struct plugin *p;
	char *err;
	int code;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fprintf(stderr,
				"%s is a Core Lightning plugin: start it with\n"
				"  lightningd --plugin=%s\n"
				"or at runtime with\n"
				"  lightning-cli plugin start %s\n",
				spec->name, argv[0], argv[0]);
			return 0;
		}
		/* Anything else lightningd passes (e.g. --developer) is
		 * accepted and ignored. */
	}
	if (isatty(STDIN_FILENO)) {
		fprintf(stderr, "%s: this is a Core Lightning plugin and speaks "
				"JSON-RPC on stdin; see --help\n",
			spec->name);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	p = xzalloc(sizeof(*p));
	p->spec = spec;
	p->app = app;
	p->clk = clock_new();
	if (getenv("HIVE_SIM_CLOCK")) {
		unsigned long long start;
		p->sim_clock = true;
		if (!str_to_u64(getenv("HIVE_SIM_CLOCK"), &start) ||
		    !clock_set_simulated_ms(p->clk, start)) {
			fprintf(stderr, "%s: bad HIVE_SIM_CLOCK\n", spec->name);
			clock_free(p->clk);
			free(p);
			return 1;
		}
	}
	p->seed = seed_for(spec->name);
	p->loop = loop_new(p->clk);
	p->rpc = rpc_new(p->loop, spec->name);
	p->opts = xzalloc(sizeof(*p->opts) * (spec->num_options + 1));
	p->io = jsonrpc_conn_new(p->loop, STDIN_FILENO, STDOUT_FILENO, false,
				 &stdin_ops, p);
	err = load_defaults(p);
	if (err) {
		/* A broken table is our bug: say so and refuse to start. */
		fprintf(stderr, "%s: %s\n", spec->name, err);
		free(err);
		code = 1;
		goto out;
	}

	while (!loop_stopped(p->loop)) {
		if (!loop_run_once(p->loop, -1))
			break;
		apply_held_tick(p);
		maybe_answer_tick(p);
	}
	code = p->exit_code;
out:
	/* Complete calls still in flight (with errors) while the app state
	 * their callbacks use is alive, so their owners release what they
	 * hold; then let the app close its storage. */
	rpc_free(p->rpc);
	p->rpc = NULL;
	if (!p->shutdown_called && spec->shutdown) {
		p->shutdown_called = true;
		spec->shutdown(p);
	}
	jsonrpc_conn_flush(p->io, 2000);
	jsonrpc_conn_free(p->io);
	for (size_t i = 0; i < spec->num_options; i++)
		opt_store(p, i, NULL, false);
	free(p->opts);
	json_decref(p->tick_id);
	loop_free(p->loop);
	clock_free(p->clk);
	free(p);
	return code;
}
