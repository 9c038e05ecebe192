/* Running the plugin protocol: init, setconfig, the simulator's tick,
 * dispatch of what arrives on stdin (requests to our methods, hooks,
 * notifications), and plugin_main's loop until shutdown. */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/plugin.h"
#include "common/plugin_internal.h"
#include "common/rpc.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* ---------- init ---------- */

static void handle_init(struct plugin *p, json_t *id, const json_t *params)
{
	const json_t *conf = json_object_get(params, "configuration");
	const char *dir = json_str(conf, "lightning-dir");
	const char *rpcfile = json_str(conf, "rpc-file");
	char *reason = NULL;
	bool startup = true;

	json_get_bool(conf, "startup", &startup);
	p->booted = startup;

	reason = plugin_opt_apply_init(p, json_object_get(params, "options"));
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
		plugin_reply(p, id, json_pack("{s:s}", "disable", reason));
		free(reason);
		p->state = ST_DISABLED;
		return;
	}
	p->state = ST_RUNNING;
	plugin_reply(p, id, json_object());
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
		plugin_reply_error(p, id, ERR_INVALID_PARAMS, NULL,
				   "setconfig: missing 'config'");
		return;
	}
	i = plugin_opt_index(p, name);
	if (i < 0) {
		plugin_reply_error(p, id, ERR_INVALID_PARAMS, NULL,
				   "setconfig: unknown option");
		return;
	}
	o = &p->spec->options[i];
	if (!o->dynamic) {
		char *m = xfmt("%s is not dynamic: set it in the config file "
			       "and restart the plugin", name);
		plugin_reply_error(p, id, ERR_INVALID_PARAMS, NULL, m);
		free(m);
		return;
	}
	/* A flag set without a value means "on". */
	json_t *implicit = NULL;
	if (!val && o->type == POPT_FLAG)
		val = implicit = json_true();
	if (!val) {
		plugin_reply_error(p, id, ERR_INVALID_PARAMS, NULL,
				   "setconfig: missing 'val'");
		return;
	}
	err = plugin_option_parse(o, val, &parsed);
	json_decref(implicit);
	if (err) {
		plugin_reply_error(p, id, ERR_INVALID_PARAMS, NULL, err);
		free(err);
		return;
	}
	old = p->opts[i].val ? json_incref(p->opts[i].val) : NULL;
	old_set = p->opts[i].set;
	plugin_opt_store(p, (size_t)i, parsed, true);
	err = p->spec->on_setconfig ? p->spec->on_setconfig(p, name) : NULL;
	if (err) {
		plugin_opt_store(p, (size_t)i, old, old_set);
		plugin_reply_error(p, id, ERR_INVALID_PARAMS, NULL, err);
		free(err);
		return;
	}
	json_decref(old);
	plugin_log(p, PLOG_INFO, "option %s changed by setconfig", name);
	plugin_reply(p, id, json_object());
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
	plugin_reply(p, p->tick_id, res);
	json_decref(p->tick_id);
	p->tick_id = NULL;
}

static void handle_tick(struct plugin *p, json_t *id, const json_t *params)
{
	uint64_t now;

	if (!json_get_u64(params, "now_ms", &now) || now == 0 ||
	    now < clock_mono_ms(p->clk) || now < p->tick_to_ms) {
		plugin_reply_error(p, id, ERR_INVALID_PARAMS, NULL,
				   "hive-sim-tick: now_ms missing or in "
				   "the past");
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
		plugin_begin_shutdown(p, NULL);
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
		plugin_reply(p, id, plugin_manifest_json(p->spec));
		return;
	}
	if (!strcmp(method, "init")) {
		if (p->state != ST_MANIFEST) {
			plugin_reply_error(p, id, ERR_INVALID_REQUEST, NULL,
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
		plugin_reply(p, id, json_pack("{s:s}", "result", "continue"));
		if (h->handler && p->state == ST_RUNNING)
			h->handler(p, params);
		return;
	}
	if (!strcmp(method, "setconfig")) {
		if (p->state != ST_RUNNING)
			plugin_reply_error(p, id, ERR_NOT_READY, NULL,
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
			plugin_reply_error(
				p, id, ERR_NOT_READY, NULL,
				p->state == ST_DISABLED
					? "plugin is disabled (see log)"
					: "plugin not initialised yet");
			return;
		}
		m->handler(command_new(p, id, method), params);
		return;
	}
	char *msg = xfmt("unknown method: %s", method);
	plugin_reply_error(p, id, ERR_METHOD_NOT_FOUND, NULL, msg);
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
			plugin_reply_error(p, id, ERR_INVALID_REQUEST, NULL,
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
			plugin_reply(p, id,
				     json_pack("{s:s}", "result", "continue"));
			return;
		}
		if (id)
			plugin_reply_error(p, id, ERR_INVALID_PARAMS, NULL,
					   "params must be an array or an "
					   "object");
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
	plugin_begin_shutdown(p, "stdin closed");
}

static const struct jsonrpc_conn_ops stdin_ops = {
	.on_message = on_stdin_message,
	.on_bad = on_stdin_bad,
	.on_close = on_stdin_close,
};

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
	err = plugin_opt_load_defaults(p);
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
		plugin_opt_store(p, i, NULL, false);
	free(p->opts);
	json_decref(p->tick_id);
	loop_free(p->loop);
	clock_free(p->clk);
	free(p);
	return code;
}
