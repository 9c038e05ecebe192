/* Fake lightningd for one simulated node; see lightningd.h. */
#include "sim/lightningd.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/u64map.h"
#include "common/util.h"
#include "sim/net.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIM_VERSION "v26.06-hive-sim"
/* lightningd gives a stopping plugin 30 s; tests should not wait that. */
#define PLUGIN_STOP_GRACE_MS 5000

enum lplugin_state {
	PL_MANIFEST,	/* getmanifest sent */
	PL_MANIFEST_OK, /* manifest in, init not yet sent */
	PL_INIT,	/* init sent */
	PL_RUNNING,
	PL_DISABLED,	/* answered init with "disable" */
	PL_DEAD,
};

struct lopt {
	char *name;
	char *type; /* "string", "int", "bool", "flag" */
	json_t *def;
	bool multi, dynamic;
	json_t *value; /* current value as lightningd would pass it */
};

struct lplugin {
	struct lnd *lnd;
	char *path, *name;
	pid_t pid;
	int exit_status;
	struct jsonrpc_conn *conn;
	char *stderr_path;
	enum lplugin_state state;
	bool dynamic;
	json_t *methods;     /* manifest rpcmethods (array) */
	json_t *subs;	     /* subscriptions (array of strings) */
	json_t *hooks;	     /* hooks (array of objects) */
	json_t *notif_topics; /* custom notifications it may emit */
	struct lopt *opts;
	size_t nopts;
	uint64_t next_deadline_ms;
	bool tick_waiting;
	bool reaped;
	struct lnd_req *stop_req;
	bool stopping; /* shutdown sent: exiting is expected */
	char *disable_reason;
};

struct client {
	uint64_t id;
	struct lnd *lnd;
	struct jsonrpc_conn *conn;
	struct client *next;
};

struct lnd_req {
	struct lnd *lnd;
	uint64_t client_id; /* 0: internal */
	json_t *id;
	char *method;
	json_t *filter; /* the request's "filter", applied to results */
	/* For internal requests the reply goes here instead. */
	void (*internal_cb)(struct lnd *lnd, json_t *reply, void *arg);
	void *internal_arg;
};

enum pending_kind { PEND_FORWARD, PEND_INTERNAL };

struct pending {
	enum pending_kind kind;
	struct lplugin *pl;
	struct lnd_req *req;	/* PEND_FORWARD: where the answer goes */
	void (*cb)(struct lplugin *pl, const json_t *msg, void *arg);
	void *arg;
};

struct queued {
	bool is_hook;
	char *name;
	json_t *params;
};

struct hook_call {
	char *hook;
	json_t *params;
	size_t next_plugin; /* index into lnd->plugins to try next */
};

struct lnd {
	struct lnd_config cfg;
	char *dir;
	char *sock_path;
	int listen_fd;
	struct client *clients;
	uint64_t next_client_id;
	struct lplugin **plugins;
	size_t nplugins, capplugins;
	struct u64map *pending;
	uint64_t next_seq;
	struct queued *queue;
	size_t nqueue, capqueue;
	size_t hooks_in_flight;
	FILE *log;
	char *failure;
	uint64_t fee_updates;
	uint64_t now_ms;
	bool stopped;
	FILE *notify_log;
	/* Injected failures (dev-sim-fail): method -> {count, code,
	 * message}. Lets tests see what a plugin does when lightningd
	 * refuses a call. */
	json_t *faults;
	/* Requests a "hang" fault holds unanswered (until the fault is
	 * cleared, when they fail, or until shutdown). */
	struct lnd_req **held;
	size_t nheld, capheld;
	void *ext[LND_EXT_SLOTS];
	void (*ext_destroy[LND_EXT_SLOTS])(void *ext);
};

/* ---------- logging ---------- */

void lnd_log(struct lnd *lnd, const char *level, const char *source,
	     const char *fmt, ...)
{
	va_list ap;
	char *msg, stamp[32];
	time_t t;
	struct tm tm;

	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	t = (time_t)(lnd->cfg.sim_clock ? lnd->now_ms / 1000
					: (uint64_t)time(NULL));
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (lnd->log) {
		fprintf(lnd->log, "%s %-7s %s: %s\n", stamp, level, source,
			msg);
		fflush(lnd->log);
	}
	if (lnd->cfg.echo_logs)
		fprintf(stderr, "[%s] %s %s: %s\n",
			lnd->cfg.net->nodes[lnd->cfg.node_idx].alias, level,
			source, msg);
	free(msg);
}

static void set_failure(struct lnd *lnd, char *text)
{
	lnd_log(lnd, "BROKEN", "hive-sim", "%s", text);
	if (!lnd->failure)
		lnd->failure = text;
	else
		free(text);
}

static const char *node_alias(const struct lnd *lnd)
{
	return lnd->cfg.net->nodes[lnd->cfg.node_idx].alias;
}

static char *stderr_tail(const struct lplugin *pl)
{
	FILE *f = fopen(pl->stderr_path, "r");
	char buf[2049];
	size_t n;
	long sz;

	if (!f)
		return xstrdup("(no stderr)");
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, sz > 2048 ? sz - 2048 : 0, SEEK_SET);
	n = fread(buf, 1, 2048, f);
	buf[n] = '\0';
	fclose(f);
	return xstrdup(n ? buf : "(stderr empty)");
}

/* ---------- accessors ---------- */

const char *lnd_dir(const struct lnd *lnd) { return lnd->dir; }
uint32_t lnd_node_idx(const struct lnd *lnd) { return lnd->cfg.node_idx; }
struct net *lnd_net(const struct lnd *lnd) { return lnd->cfg.net; }
struct loop *lnd_loop(const struct lnd *lnd) { return lnd->cfg.loop; }
uint64_t lnd_fee_updates(const struct lnd *lnd) { return lnd->fee_updates; }
void lnd_count_fee_update(struct lnd *lnd) { lnd->fee_updates++; }
const char *lnd_plugin_failure(const struct lnd *lnd) { return lnd->failure; }
struct lnd *lnd_req_node(const struct lnd_req *req) { return req->lnd; }
const char *lnd_req_method(const struct lnd_req *req) { return req->method; }
const json_t *lnd_req_filter(const struct lnd_req *req) { return req->filter; }

void lnd_set_ext(struct lnd *lnd, enum lnd_ext_slot slot, void *ext,
		 void (*destroy)(void *ext))
{
	lnd->ext[slot] = ext;
	lnd->ext_destroy[slot] = destroy;
}

void *lnd_ext(const struct lnd *lnd, enum lnd_ext_slot slot)
{
	return lnd->ext[slot];
}

const struct lnd_method *lnd_find_method(const char *name)
{
	for (size_t t = 0; t < lnd_num_method_tables; t++)
		for (size_t i = 0; i < *lnd_method_tables[t].n; i++)
			if (!strcmp(lnd_method_tables[t].methods[i].name, name))
				return &lnd_method_tables[t].methods[i];
	return NULL;
}

const struct sim_hooks *lnd_sim_hooks(const struct lnd *lnd, void **arg)
{
	*arg = lnd->cfg.hooks_arg;
	return lnd->cfg.hooks;
}

size_t lnd_num_plugins(const struct lnd *lnd)
{
	size_t n = 0;
	for (size_t i = 0; i < lnd->nplugins; i++)
		n += lnd->plugins[i]->state == PL_RUNNING;
	return n;
}

/* ---------- clients and requests ---------- */

static struct client *client_find(struct lnd *lnd, uint64_t id)
{
	for (struct client *c = lnd->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void req_free(struct lnd_req *req)
{
	json_decref(req->filter);
	json_decref(req->id);
	free(req->method);
	free(req);
}

static void req_send(struct lnd_req *req, json_t *msg)
{
	if (req->internal_cb) {
		req->internal_cb(req->lnd, msg, req->internal_arg);
		json_decref(msg);
	} else {
		struct client *c = client_find(req->lnd, req->client_id);
		if (c)
			jsonrpc_conn_send(c->conn, msg);
		else
			json_decref(msg);
	}
	req_free(req);
}

/* lightningd's result filter: keep members whose filter is true (or an
 * object, recursively); an array's filter is its first element, applied
 * to every element. */
json_t *lnd_filter(json_t *v, const json_t *filter)
{
	if (json_is_object(filter) && json_is_object(v)) {
		json_t *out = json_object();
		const char *k;
		json_t *f;
		json_object_foreach((json_t *)filter, k, f) {
			json_t *m = json_object_get(v, k);
			if (!m)
				continue;
			if (json_is_true(f))
				json_object_set(out, k, m);
			else if (json_is_object(f) || json_is_array(f))
				json_object_set_new(out, k,
						    lnd_filter(m, f));
		}
		return out;
	}
	if (json_is_array(filter) && json_is_array(v) &&
	    json_array_size(filter) == 1) {
		json_t *out = json_array();
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			json_array_append_new(
				out, lnd_filter(e, json_array_get(filter, 0)));
		return out;
	}
	return json_incref(v);
}

void lnd_req_ok(struct lnd_req *req, json_t *result)
{
	if (req->filter) {
		json_t *f = lnd_filter(result, req->filter);
		json_decref(result);
		result = f;
	}
	lnd_req_ok_filtered(req, result);
}

void lnd_req_ok_filtered(struct lnd_req *req, json_t *result)
{
	req_send(req, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id",
				req->id, "result", result));
}

void lnd_req_fail(struct lnd_req *req, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	req_send(req, json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0",
				"id", req->id, "error", "code", code,
				"message", msg));
	free(msg);
}

void lnd_req_fail_data(struct lnd_req *req, int code, const char *message,
		       json_t *data)
{
	req_send(req, json_pack("{s:s,s:O,s:{s:i,s:s,s:o}}", "jsonrpc", "2.0",
				"id", req->id, "error", "code", code,
				"message", message, "data", data));
}

/* ---------- plugin I/O ---------- */

static void plugin_send(struct lplugin *pl, json_t *msg)
{
	if (pl->conn && pl->state != PL_DEAD)
		jsonrpc_conn_send(pl->conn, msg);
	else
		json_decref(msg);
}

/* Send a request to @pl; @cb gets the whole reply message. */
static void plugin_request(struct lplugin *pl, const char *idprefix,
			   const char *method, json_t *params,
			   void (*cb)(struct lplugin *, const json_t *, void *),
			   void *arg, struct lnd_req *fwd)
{
	struct lnd *lnd = pl->lnd;
	struct pending *p = xzalloc(sizeof(*p));
	uint64_t seq = lnd->next_seq++;
	char *id = idprefix ? xfmt("%s/cln:%s#%llu", idprefix, method,
				   (unsigned long long)seq)
			    : xfmt("cln:%s#%llu", method,
				   (unsigned long long)seq);

	p->kind = fwd ? PEND_FORWARD : PEND_INTERNAL;
	p->pl = pl;
	p->req = fwd;
	p->cb = cb;
	p->arg = arg;
	u64map_put(lnd->pending, seq, p);
	plugin_send(pl, json_pack("{s:s,s:s,s:s,s:o}", "jsonrpc", "2.0", "id",
				  id, "method", method, "params", params));
	free(id);
}

static void plugin_notify_raw(struct lplugin *pl, const char *method,
			      json_t *params)
{
	plugin_send(pl, json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method",
				  method, "params", params));
}

static bool plugin_subscribed(const struct lplugin *pl, const char *topic)
{
	size_t i;
	json_t *v;
	json_array_foreach(pl->subs, i, v) {
		const char *s = json_string_value(v);
		if (s && (!strcmp(s, topic) || !strcmp(s, "*")))
			return true;
	}
	return false;
}

/* Fail everything still waiting on a plugin that went away. */
static void fail_pending_for(struct lplugin *pl)
{
	struct lnd *lnd = pl->lnd;
	struct u64map *keep = u64map_new();
	struct pending *p;
	uint64_t seq;

	while ((p = u64map_pop_any(lnd->pending, &seq)) != NULL) {
		if (p->pl != pl) {
			u64map_put(keep, seq, p);
			continue;
		}
		if (p->kind == PEND_FORWARD)
			lnd_req_fail(p->req, ERR_LIGHTNINGD,
				     "Plugin terminated before replying to "
				     "%s",
				     p->req->method);
		else if (p->cb)
			p->cb(pl, NULL, p->arg);
		free(p);
	}
	u64map_free(lnd->pending);
	lnd->pending = keep;
}

static void plugin_reap(struct lplugin *pl, int wait_ms)
{
	int status;

	if (pl->reaped || pl->pid <= 0)
		return;
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(pl->pid, &status, WNOHANG);
		if (r == pl->pid) {
			pl->reaped = true;
			pl->exit_status = status;
			return;
		}
		if (waited >= wait_ms)
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(pl->pid, SIGKILL);
	waitpid(pl->pid, &status, 0);
	pl->reaped = true;
	pl->exit_status = status;
}

static char *describe_status(int st)
{
	if (WIFEXITED(st))
		return xfmt("exit status %d", WEXITSTATUS(st));
	if (WIFSIGNALED(st))
		return xfmt("killed by signal %d (%s)", WTERMSIG(st),
			    strsignal(WTERMSIG(st)));
	return xstrdup("unknown status");
}

static void plugin_dead(struct lplugin *pl, const char *why)
{
	struct lnd *lnd = pl->lnd;
	bool expected = pl->stop_req || pl->stopping ||
			pl->state == PL_DISABLED;
	enum lplugin_state was = pl->state;

	if (pl->state == PL_DEAD)
		return;
	pl->state = PL_DEAD;
	if (pl->conn) {
		jsonrpc_conn_free(pl->conn);
		pl->conn = NULL;
	}
	plugin_reap(pl, expected ? PLUGIN_STOP_GRACE_MS : 2000);
	if (!expected) {
		char *st = describe_status(pl->exit_status), *tail;
		tail = stderr_tail(pl);
		set_failure(lnd, xfmt("plugin %s on node %s died (%s%s%s, "
				      "state %d); stderr:\n%s",
				      pl->name,
				      lnd->cfg.net->nodes[lnd->cfg.node_idx]
					      .alias,
				      st, why ? ": " : "", why ? why : "",
				      (int)was, tail));
		free(st);
		free(tail);
	} else if (pl->stop_req) {
		char *st = describe_status(pl->exit_status);
		lnd_log(lnd, "INFO", "plugin-manager", "%s stopped (%s)",
			pl->name, st);
		free(st);
	}
	fail_pending_for(pl);
	if (pl->stop_req) {
		struct lnd_req *r = pl->stop_req;
		pl->stop_req = NULL;
		char *msg = xfmt("Successfully stopped %s.", pl->name);
		lnd_req_ok(r, json_pack("{s:s,s:s}", "command", "stop",
					"result", msg));
		free(msg);
	}
}

static void custom_notification(struct lplugin *from, const char *method,
				const json_t *params)
{
	struct lnd *lnd = from->lnd;
	bool declared = false;
	size_t i;
	json_t *v;

	json_array_foreach(from->notif_topics, i, v)
		declared |= !strcmp(json_string_value(v) ? json_string_value(v)
							 : "",
				    method);
	if (!declared) {
		lnd_log(lnd, "UNUSUAL", from->name,
			"emitted undeclared notification %s: ignored", method);
		return;
	}
	for (size_t k = 0; k < lnd->nplugins; k++) {
		struct lplugin *pl = lnd->plugins[k];
		if (pl->state != PL_RUNNING || !plugin_subscribed(pl, method))
			continue;
		plugin_notify_raw(pl, method,
				  json_pack("{s:s,s:O}", "origin", from->name,
					    "payload", params));
	}
}

static void on_plugin_message(struct jsonrpc_conn *c, json_t *msg, void *arg)
{
	struct lplugin *pl = arg;
	struct lnd *lnd = pl->lnd;
	const char *method = json_str(msg, "method");
	const json_t *id = json_object_get(msg, "id");

	if (!json_is_string(json_object_get(msg, "jsonrpc"))) {
		/* lightningd kills a plugin for this. */
		char *t = json_to_text(msg), *tail = stderr_tail(pl);
		set_failure(lnd, xfmt("plugin %s on node %s wrote a message "
				      "without \"jsonrpc\": %.200s; stderr:\n%s",
				      pl->name, node_alias(lnd), t, tail));
		free(t);
		free(tail);
		kill(pl->pid, SIGKILL);
		plugin_dead(pl, "protocol violation");
		return;
	}
	if (method && !id) {
		const json_t *params = json_object_get(msg, "params");
		if (!strcmp(method, "log")) {
			const char *lvl = json_str(params, "level");
			const char *m = json_str(params, "message");
			static const char *const ok[] = {
				"trace", "debug", "info", "warn", "error",
				"unusual", "broken", NULL};
			bool valid = !lvl;
			for (int i = 0; lvl && ok[i]; i++)
				valid |= !strcmp(lvl, ok[i]);
			if (!m || !valid) {
				lnd_log(lnd, "UNUSUAL", pl->name,
					"bad log notification");
				return;
			}
			lnd_log(lnd, lvl ? lvl : "info", pl->name, "%s", m);
			return;
		}
		custom_notification(pl, method, params);
		return;
	}
	if (method && id) {
		/* Plugins call lightningd over the socket, never on stdout. */
		lnd_log(lnd, "UNUSUAL", pl->name,
			"sent a request on stdout: ignored");
		return;
	}
	const char *ids = json_string_value(id);
	const char *hash = ids ? strrchr(ids, '#') : NULL;
	unsigned long long seq;
	struct pending *p;
	if (!hash || !str_to_u64(hash + 1, &seq) ||
	    !(p = u64map_del(lnd->pending, seq))) {
		lnd_log(lnd, "UNUSUAL", pl->name, "reply with unknown id");
		return;
	}
	if (p->kind == PEND_FORWARD) {
		/* Pass the plugin's answer through with the caller's id. */
		json_t *out = json_deep_copy(msg);
		json_object_set(out, "id", p->req->id);
		req_send(p->req, out);
	} else if (p->cb) {
		p->cb(pl, msg, p->arg);
	}
	free(p);
	(void)c;
}

static void on_plugin_bad(struct jsonrpc_conn *c, const char *err, void *arg)
{
	struct lplugin *pl = arg;
	char *tail = stderr_tail(pl);
	set_failure(pl->lnd, xfmt("plugin %s on node %s wrote non-JSON to "
				  "stdout: %s; stderr:\n%s",
				  pl->name, node_alias(pl->lnd), err, tail));
	free(tail);
	kill(pl->pid, SIGKILL);
	plugin_dead(pl, "garbage on stdout");
	(void)c;
}

static void on_plugin_close(struct jsonrpc_conn *c, const char *err,
			    void *arg)
{
	plugin_dead(arg, err ? err : "stdout closed");
	(void)c;
}

static const struct jsonrpc_conn_ops plugin_ops = {
	.on_message = on_plugin_message,
	.on_bad = on_plugin_bad,
	.on_close = on_plugin_close,
};

/* ---------- waiting ---------- */

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Serve I/O until @done(arg) or the timeout; false on timeout. */
static bool serve_until(struct lnd *lnd, bool (*done)(void *), void *arg,
			int timeout_ms)
{
	uint64_t end = wall_ms() + (uint64_t)timeout_ms;
	while (!done(arg)) {
		uint64_t now = wall_ms();
		if (now >= end)
			return false;
		loop_run_once(lnd->cfg.loop, (int)(end - now));
	}
	return true;
}

/* ---------- starting plugins ---------- */

static struct lplugin *plugin_spawn(struct lnd *lnd, const char *path,
				    char **err)
{
	int in[2], out[2], errfd;
	struct lplugin *pl;
	const char *base = strrchr(path, '/');
	pid_t pid;

	*err = NULL;
	if (access(path, X_OK) != 0) {
		*err = xfmt("plugin %s: not executable: %s", path,
			    strerror(errno));
		return NULL;
	}
	pl = xzalloc(sizeof(*pl));
	pl->lnd = lnd;
	pl->path = realpath(path, NULL);
	if (!pl->path)
		pl->path = xstrdup(path);
	pl->name = xstrdup(base ? base + 1 : path);
	pl->stderr_path = xfmt("%s/%s.stderr", lnd->dir, pl->name);
	pl->next_deadline_ms = UINT64_MAX;
	pl->methods = json_array();
	pl->subs = json_array();
	pl->hooks = json_array();
	pl->notif_topics = json_array();

	errfd = open(pl->stderr_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		     0644);
	if (errfd < 0 || pipe2(in, O_CLOEXEC) != 0 ||
	    pipe2(out, O_CLOEXEC) != 0) {
		*err = xfmt("plugin %s: cannot set up pipes: %s", path,
			    strerror(errno));
		if (errfd >= 0)
			close(errfd);
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		*err = xfmt("plugin %s: fork: %s", path, strerror(errno));
		close(errfd);
		goto fail;
	}
	if (pid == 0) {
		char ms[32], seed[32];
		/* Die with the simulator: no orphans. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(errfd, STDERR_FILENO);
		if (chdir(lnd->dir) != 0)
			_exit(127);
		setenv("LIGHTNINGD_PLUGIN", "1", 1);
		setenv("LIGHTNINGD_VERSION", SIM_VERSION, 1);
		if (lnd->cfg.sim_clock) {
			snprintf(ms, sizeof(ms), "%llu",
				 (unsigned long long)lnd->now_ms);
			snprintf(seed, sizeof(seed), "%llu",
				 (unsigned long long)(lnd->cfg.seed ^
						      (lnd->cfg.node_idx *
						       0x9E3779B97F4A7C15ULL)));
			setenv("HIVE_SIM_CLOCK", ms, 1);
			setenv("HIVE_SIM_SEED", seed, 1);
		} else {
			unsetenv("HIVE_SIM_CLOCK");
			unsetenv("HIVE_SIM_SEED");
		}
		execl(pl->path, pl->path, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", pl->path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(errfd);
	pl->pid = pid;
	pl->conn = jsonrpc_conn_new(lnd->cfg.loop, out[0], in[1], true,
				    &plugin_ops, pl);
	return pl;
fail:
	free(pl->path);
	free(pl->name);
	free(pl->stderr_path);
	json_decref(pl->methods);
	json_decref(pl->subs);
	json_decref(pl->hooks);
	json_decref(pl->notif_topics);
	free(pl);
	return NULL;
}

static void plugin_destroy(struct lplugin *pl)
{
	if (pl->conn)
		jsonrpc_conn_free(pl->conn);
	for (size_t i = 0; i < pl->nopts; i++) {
		free(pl->opts[i].name);
		free(pl->opts[i].type);
		json_decref(pl->opts[i].def);
		json_decref(pl->opts[i].value);
	}
	free(pl->opts);
	json_decref(pl->methods);
	json_decref(pl->subs);
	json_decref(pl->hooks);
	json_decref(pl->notif_topics);
	free(pl->path);
	free(pl->name);
	free(pl->stderr_path);
	free(pl->disable_reason);
	free(pl);
}

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
		set_failure(pl->lnd, xfmt("plugin %s: getmanifest failed: "
					  "%.300s",
					  pl->name, t));
		free(t);
		kill(pl->pid, SIGKILL);
		plugin_dead(pl, "bad manifest");
		return;
	}
	err = read_manifest(pl, json_object_get(msg, "result"));
	if (err) {
		set_failure(pl->lnd, xfmt("plugin %s: bad manifest: %s",
					  pl->name, err));
		free(err);
		kill(pl->pid, SIGKILL);
		plugin_dead(pl, "bad manifest");
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
	plugin_request(pl, NULL, "init", params, init_reply, NULL, NULL);
}

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
		pls[i] = plugin_spawn(lnd, paths[i], err);
		if (!pls[i]) {
			w.n = i;
			goto out;
		}
		add_plugin(lnd, pls[i]);
		plugin_request(pls[i], NULL, "getmanifest",
			       json_pack("{s:b}", "allow-deprecated-apis", 0),
			       manifest_reply, NULL, NULL);
	}
	w.past = PL_MANIFEST_OK;
	if (!serve_until(lnd, all_past, &w, lnd->cfg.plugin_timeout_ms)) {
		*err = xfmt("a plugin did not answer getmanifest within %d ms",
			    lnd->cfg.plugin_timeout_ms);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (pls[i]->state == PL_DEAD)
			continue;
		char *clash = method_clash(lnd, pls[i]);
		if (clash) {
			set_failure(lnd, xfmt("plugin %s: %s", pls[i]->name,
					      clash));
			free(clash);
			kill(pls[i]->pid, SIGKILL);
			plugin_dead(pls[i], "method clash");
			continue;
		}
		plugin_send_init(pls[i], options, true);
	}
	w.past = PL_RUNNING;
	if (!serve_until(lnd, all_past, &w, lnd->cfg.plugin_timeout_ms)) {
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

/* ---------- runtime plugin start/stop (the `plugin` command) ---------- */

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
	plugin_request(pl, NULL, "init",
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
	pl = plugin_spawn(lnd, path, &err);
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
	plugin_request(pl, NULL, "getmanifest", json_object(),
		       dyn_manifest_reply, ds, NULL);
}

static struct lplugin *plugin_by_name(struct lnd *lnd, const char *name)
{
	for (size_t i = 0; i < lnd->nplugins; i++) {
		struct lplugin *pl = lnd->plugins[i];
		if (pl->state == PL_DEAD)
			continue;
		if (!strcmp(pl->name, name) || !strcmp(pl->path, name))
			return pl;
	}
	return NULL;
}

static void plugin_begin_stop(struct lplugin *pl)
{
	pl->stopping = true;
	if (plugin_subscribed(pl, "shutdown"))
		plugin_notify_raw(pl, "shutdown",
				  json_pack("{s:{}}", "shutdown"));
	else
		kill(pl->pid, SIGKILL);
}

void lnd_plugin_stop_req(struct lnd_req *req, const char *name)
{
	struct lplugin *pl = plugin_by_name(req->lnd, name);

	if (!pl) {
		lnd_req_fail(req, ERR_LIGHTNINGD,
			     "Could not find plugin %s", name);
		return;
	}
	if (!pl->dynamic) {
		lnd_req_fail(req, ERR_LIGHTNINGD, "%s cannot be managed when "
						  "lightningd is up",
			     name);
		return;
	}
	pl->stop_req = req;
	plugin_begin_stop(pl);
}

json_t *lnd_plugin_list_json(const struct lnd *lnd)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < lnd->nplugins; i++) {
		const struct lplugin *pl = lnd->plugins[i];
		if (pl->state == PL_DEAD || pl->state == PL_DISABLED)
			continue;
		json_array_append_new(
			arr, json_pack("{s:s,s:b,s:b}", "name", pl->path,
				       "active", pl->state == PL_RUNNING,
				       "dynamic", pl->dynamic));
	}
	return arr;
}

json_t *lnd_help_json(const struct lnd *lnd, const char *only)
{
	json_t *arr = json_array();

	for (size_t t = 0; t < lnd_num_method_tables; t++) {
		for (size_t i = 0; i < *lnd_method_tables[t].n; i++) {
			const struct lnd_method *m =
				&lnd_method_tables[t].methods[i];
			if (only && strcmp(only, m->name))
				continue;
			char *cmd = xfmt("%s%s%s", m->name,
					 *m->usage ? " " : "", m->usage);
			json_array_append_new(arr, json_pack("{s:s}", "command",
							     cmd));
			free(cmd);
		}
	}
	for (size_t k = 0; k < lnd->nplugins; k++) {
		const struct lplugin *pl = lnd->plugins[k];
		size_t i;
		json_t *m;
		if (pl->state != PL_RUNNING)
			continue;
		json_array_foreach(pl->methods, i, m) {
			const char *name = json_str(m, "name");
			const char *usage = json_str(m, "usage");
			if (only && strcmp(only, name))
				continue;
			char *cmd = xfmt("%s%s%s", name,
					 usage && *usage ? " " : "",
					 usage ? usage : "");
			json_array_append_new(arr,
					      json_pack("{s:s}", "command", cmd));
			free(cmd);
		}
	}
	return arr;
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
	plugin_request(owner, req->client_id ? json_string_value(req->id) : NULL,
		       "setconfig",
		       strcmp(o->type, "flag")
			       ? json_pack("{s:s,s:s}", "config", name, "val",
					   text)
			       : json_pack("{s:s}", "config", name),
		       setconfig_reply, sc, NULL);
	free(text);
}

/* ---------- injected failures ---------- */

void lnd_inject_fault(struct lnd *lnd, const char *method, int64_t count,
		      int code, const char *message, bool hang)
{
	if (!lnd->faults)
		lnd->faults = json_object();
	if (count <= 0) {
		size_t kept = 0;
		json_object_del(lnd->faults, method);
		/* Release what a hang held: those calls fail now. */
		for (size_t i = 0; i < lnd->nheld; i++) {
			struct lnd_req *req = lnd->held[i];
			if (strcmp(req->method, method))
				lnd->held[kept++] = req;
			else
				lnd_req_fail(req, code, "%s", message);
		}
		lnd->nheld = kept;
		return;
	}
	json_object_set_new(lnd->faults, method,
			    json_pack("{s:I,s:i,s:s,s:b}", "count",
				      (json_int_t)count, "code", code,
				      "message", message, "hang", hang));
}

/* ---------- dispatch of client requests ---------- */

static struct lplugin *method_owner(struct lnd *lnd, const char *method)
{
	for (size_t k = 0; k < lnd->nplugins; k++) {
		struct lplugin *pl = lnd->plugins[k];
		size_t i;
		json_t *m;
		if (pl->state != PL_RUNNING)
			continue;
		json_array_foreach(pl->methods, i, m)
			if (!strcmp(json_str(m, "name"), method))
				return pl;
	}
	return NULL;
}

static void dispatch(struct lnd *lnd, struct lnd_req *req,
		     const json_t *params)
{
	struct lplugin *pl;
	char *idtext;
	const struct lnd_method *m = lnd_find_method(req->method);
	json_t *fault = json_object_get(lnd->faults, req->method);

	if (fault && json_integer_value(json_object_get(fault, "count")) > 0) {
		int64_t left = json_integer_value(json_object_get(fault, "count"));
		int code = (int)json_integer_value(json_object_get(fault, "code"));
		char *msg = xstrdup(json_str(fault, "message"));
		/* Only a client's call can be held: the simulator's own
		 * calls must complete. */
		bool hang = json_is_true(json_object_get(fault, "hang")) &&
			    !req->internal_cb;
		/* A spent hang stays (count 0) until cleared, so the calls
		 * it holds can be released. */
		if (left <= 1 && !hang)
			json_object_del(lnd->faults, req->method);
		else
			json_object_set_new(fault, "count",
					    json_integer(left - 1));
		if (hang) {
			xgrow(&lnd->held, &lnd->capheld, lnd->nheld + 1,
			      sizeof(*lnd->held));
			lnd->held[lnd->nheld++] = req;
		} else {
			lnd_req_fail(req, code, "%s", msg);
		}
		free(msg);
		return;
	}
	if (m) {
		m->fn(req, params);
		return;
	}
	pl = method_owner(lnd, req->method);
	if (!pl) {
		lnd_req_fail(req, ERR_METHOD_NOT_FOUND, "Unknown command '%s'",
			     req->method);
		return;
	}
	idtext = json_is_string(req->id) ? xstrdup(json_string_value(req->id))
					 : json_to_text(req->id);
	plugin_request(pl, idtext, req->method,
		       params ? json_deep_copy(params) : json_object(), NULL,
		       NULL, req);
	free(idtext);
}

static void on_client_message(struct jsonrpc_conn *conn, json_t *msg,
			      void *arg)
{
	struct client *c = arg;
	const char *method = json_str(msg, "method");
	json_t *id = json_object_get(msg, "id");
	const json_t *params = json_object_get(msg, "params");
	struct lnd_req *req;

	if (!id) {
		/* lightningd ignores notifications from RPC clients. */
		return;
	}
	req = xzalloc(sizeof(*req));
	req->lnd = c->lnd;
	req->client_id = c->id;
	req->id = json_incref(id);
	req->method = xstrdup(method ? method : "");
	if (json_is_object(json_object_get(msg, "filter")))
		req->filter = json_incref(json_object_get(msg, "filter"));
	if (!method) {
		lnd_req_fail(req, ERR_INVALID_REQUEST,
			     "Expected string for method");
		return;
	}
	if (params && !json_is_object(params) && !json_is_array(params)) {
		lnd_req_fail(req, ERR_INVALID_PARAMS,
			     "Expected array or object for params");
		return;
	}
	dispatch(c->lnd, req, params);
	(void)conn;
}

static void client_close(struct client *c)
{
	struct lnd *lnd = c->lnd;
	for (struct client **pp = &lnd->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	jsonrpc_conn_free(c->conn);
	free(c);
}

static void on_client_bad(struct jsonrpc_conn *conn, const char *err,
			  void *arg)
{
	struct client *c = arg;
	jsonrpc_conn_send(conn, json_pack("{s:s,s:n,s:{s:i,s:s}}", "jsonrpc",
					  "2.0", "id", "error", "code",
					  ERR_PARSE, "message", err));
	(void)c;
}

static void on_client_close(struct jsonrpc_conn *conn, const char *err,
			    void *arg)
{
	client_close(arg);
	(void)conn;
	(void)err;
}

static const struct jsonrpc_conn_ops client_ops = {
	.on_message = on_client_message,
	.on_bad = on_client_bad,
	.on_close = on_client_close,
};

static void on_accept(struct loop *loop, int fd, short rev, void *arg)
{
	struct lnd *lnd = arg;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	struct client *c;

	if (cfd < 0)
		return;
	c = xzalloc(sizeof(*c));
	c->id = ++lnd->next_client_id;
	c->lnd = lnd;
	c->conn = jsonrpc_conn_new(loop, cfd, cfd, true, &client_ops, c);
	c->next = lnd->clients;
	lnd->clients = c;
	(void)rev;
}

/* ---------- notifications, hooks, ticks ---------- */

static void deliver_notification(struct lnd *lnd, const char *topic,
				 json_t *payload)
{
	for (size_t k = 0; k < lnd->nplugins; k++) {
		struct lplugin *pl = lnd->plugins[k];
		if (pl->state != PL_RUNNING || !plugin_subscribed(pl, topic))
			continue;
		plugin_notify_raw(pl, topic,
				  json_pack("{s:O}", topic, payload));
	}
}

static bool hook_wants(const struct lplugin *pl, const char *hook,
		       const json_t *params)
{
	size_t i;
	json_t *h;

	if (pl->state != PL_RUNNING)
		return false;
	json_array_foreach(pl->hooks, i, h) {
		const char *name = json_is_string(h) ? json_string_value(h)
						     : json_str(h, "name");
		const json_t *filters = json_object_get(h, "filters");
		if (!name || strcmp(name, hook))
			continue;
		if (!strcmp(hook, "custommsg") && json_is_array(filters)) {
			const char *payload = json_str(params, "payload");
			unsigned type;
			if (!payload || sscanf(payload, "%4x", &type) != 1)
				return false;
			size_t j;
			json_t *f;
			json_array_foreach(filters, j, f)
				if (json_integer_value(f) == (json_int_t)type)
					return true;
			return false;
		}
		return true;
	}
	return false;
}

static void hook_next(struct lnd *lnd, struct hook_call *hc);

static void hook_reply(struct lplugin *pl, const json_t *msg, void *arg)
{
	struct hook_call *hc = arg;
	struct lnd *lnd = pl->lnd;
	const char *res = json_str(json_object_get(msg, "result"), "result");

	if (msg && (!res || strcmp(res, "continue"))) {
		char *t = json_to_text(msg);
		lnd_log(lnd, "UNUSUAL", pl->name,
			"hook %s answered other than continue: %.200s",
			hc->hook, t);
		free(t);
	}
	hook_next(lnd, hc);
}

static void hook_next(struct lnd *lnd, struct hook_call *hc)
{
	while (hc->next_plugin < lnd->nplugins) {
		struct lplugin *pl = lnd->plugins[hc->next_plugin++];
		if (!hook_wants(pl, hc->hook, hc->params))
			continue;
		plugin_request(pl, NULL, hc->hook, json_incref(hc->params),
			       hook_reply, hc, NULL);
		return;
	}
	lnd->hooks_in_flight--;
	free(hc->hook);
	json_decref(hc->params);
	free(hc);
}

static void start_hook(struct lnd *lnd, const char *hook, json_t *params)
{
	struct hook_call *hc = xzalloc(sizeof(*hc));
	hc->hook = xstrdup(hook);
	hc->params = params;
	lnd->hooks_in_flight++;
	hook_next(lnd, hc);
}

static void flush_queue(struct lnd *lnd)
{
	/* Take the queue first: delivering may queue more (for the next
	 * sync). */
	struct queued *q = lnd->queue;
	size_t n = lnd->nqueue;

	lnd->queue = NULL;
	lnd->nqueue = lnd->capqueue = 0;
	for (size_t i = 0; i < n; i++) {
		if (q[i].is_hook) {
			start_hook(lnd, q[i].name, q[i].params);
		} else {
			deliver_notification(lnd, q[i].name, q[i].params);
			json_decref(q[i].params);
		}
		free(q[i].name);
	}
	free(q);
}

static void log_notification(struct lnd *lnd, const char *kind,
			     const char *name, const json_t *params)
{
	json_t *line;
	char *text;

	if (!lnd->notify_log)
		return;
	line = json_pack("{s:s,s:s,s:O}", "kind", kind, "topic", name,
			 "payload", params);
	/* The precision plugins get on the wire (jsonrpc_io). */
	text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(15));
	fprintf(lnd->notify_log, "%s\n", text);
	fflush(lnd->notify_log);
	free(text);
	json_decref(line);
}

static void enqueue(struct lnd *lnd, bool is_hook, const char *name,
		    json_t *params)
{
	log_notification(lnd, is_hook ? "hook" : "notification", name, params);
	xgrow(&lnd->queue, &lnd->capqueue, lnd->nqueue + 1,
	      sizeof(*lnd->queue));
	lnd->queue[lnd->nqueue++] = (struct queued){
		.is_hook = is_hook, .name = xstrdup(name), .params = params};
	if (!lnd->cfg.sim_clock)
		flush_queue(lnd);
}

void lnd_notify(struct lnd *lnd, const char *topic, json_t *payload)
{
	enqueue(lnd, false, topic, payload);
}

void lnd_hook(struct lnd *lnd, const char *hook, json_t *params)
{
	enqueue(lnd, true, hook, params);
}

static void tick_reply(struct lplugin *pl, const json_t *msg, void *arg)
{
	const json_t *res = json_object_get(msg, "result");
	uint64_t next;

	pl->tick_waiting = false;
	if (!msg)
		return;
	if (!res) {
		char *t = json_to_text(msg);
		set_failure(pl->lnd, xfmt("plugin %s: bad tick reply %.200s",
					  pl->name, t));
		free(t);
		return;
	}
	pl->next_deadline_ms =
		json_get_u64(res, "next_deadline_ms", &next) ? next : UINT64_MAX;
	(void)arg;
}

static bool tick_done(void *arg)
{
	struct lplugin *pl = arg;
	return !pl->tick_waiting || pl->state == PL_DEAD;
}

static bool hooks_done(void *arg)
{
	struct lnd *lnd = arg;
	return lnd->hooks_in_flight == 0;
}

bool lnd_sync(struct lnd *lnd, uint64_t now_ms, char **err)
{
	*err = NULL;
	lnd->now_ms = now_ms;
	flush_queue(lnd);
	if (!serve_until(lnd, hooks_done, lnd, lnd->cfg.plugin_timeout_ms)) {
		*err = xfmt("node %s: a hook was not answered within %d ms",
			    lnd->cfg.net->nodes[lnd->cfg.node_idx].alias,
			    lnd->cfg.plugin_timeout_ms);
		return false;
	}
	for (size_t k = 0; k < lnd->nplugins; k++) {
		struct lplugin *pl = lnd->plugins[k];
		if (pl->state != PL_RUNNING)
			continue;
		pl->tick_waiting = true;
		plugin_request(pl, NULL, "hive-sim-tick",
			       json_pack("{s:I}", "now_ms", (json_int_t)now_ms),
			       tick_reply, NULL, NULL);
		if (!serve_until(lnd, tick_done, pl,
				 lnd->cfg.plugin_timeout_ms)) {
			char *tail = stderr_tail(pl);
			*err = xfmt("plugin %s on node %s hung: no idle reply "
				    "within %d ms; stderr:\n%s",
				    pl->name,
				    lnd->cfg.net->nodes[lnd->cfg.node_idx].alias,
				    lnd->cfg.plugin_timeout_ms, tail);
			free(tail);
			set_failure(lnd, xstrdup(*err));
			return false;
		}
	}
	if (lnd->failure) {
		*err = xstrdup(lnd->failure);
		return false;
	}
	return true;
}

uint64_t lnd_next_deadline_ms(const struct lnd *lnd)
{
	uint64_t next = UINT64_MAX;
	for (size_t k = 0; k < lnd->nplugins; k++)
		if (lnd->plugins[k]->state == PL_RUNNING &&
		    lnd->plugins[k]->next_deadline_ms < next)
			next = lnd->plugins[k]->next_deadline_ms;
	return next;
}

/* ---------- lifecycle ---------- */

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

struct lnd *lnd_new(const struct lnd_config *cfg, char **err)
{
	struct lnd *lnd = xzalloc(sizeof(*lnd));
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char *conf, *logpath;

	*err = NULL;
	lnd->cfg = *cfg;
	lnd->listen_fd = -1;
	lnd->pending = u64map_new();
	lnd->next_seq = 1;
	lnd->now_ms = cfg->net->now_sec * 1000;
	if (lnd->cfg.plugin_timeout_ms <= 0)
		lnd->cfg.plugin_timeout_ms = 30000;
	if (mkdir(cfg->dir, 0755) != 0 && errno != EEXIST) {
		*err = xfmt("cannot create %s: %s", cfg->dir, strerror(errno));
		goto fail;
	}
	lnd->dir = realpath(cfg->dir, NULL);
	if (!lnd->dir) {
		*err = xfmt("%s: %s", cfg->dir, strerror(errno));
		goto fail;
	}
	lnd->sock_path = xfmt("%s/lightning-rpc", lnd->dir);
	if (strlen(lnd->sock_path) >= sizeof(addr.sun_path)) {
		*err = xfmt("socket path too long (max %zu): %s",
			    sizeof(addr.sun_path) - 1, lnd->sock_path);
		goto fail;
	}
	/* So `lightning-cli --lightning-dir=<dir>` finds the socket. */
	conf = xfmt("# written by hive-sim\nnetwork=%s\nrpc-file=%s\n",
		    cfg->net->network, lnd->sock_path);
	char *confpath = xfmt("%s/config", lnd->dir);
	bool wrote = write_file(confpath, conf);
	free(confpath);
	free(conf);
	if (!wrote) {
		*err = xfmt("cannot write %s/config", lnd->dir);
		goto fail;
	}
	logpath = xfmt("%s/log", lnd->dir);
	lnd->log = fopen(logpath, "a");
	free(logpath);
	if (cfg->notify_log) {
		logpath = xfmt("%s/notifications.jsonl", lnd->dir);
		lnd->notify_log = fopen(logpath, "w");
		free(logpath);
	}

	unlink(lnd->sock_path);
	strcpy(addr.sun_path, lnd->sock_path);
	lnd->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
						 SOCK_NONBLOCK,
				0);
	if (lnd->listen_fd < 0 ||
	    bind(lnd->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(lnd->listen_fd, 64) != 0) {
		*err = xfmt("cannot listen on %s: %s", lnd->sock_path,
			    strerror(errno));
		goto fail;
	}
	if (!loop_add_fd(cfg->loop, lnd->listen_fd, POLLIN, on_accept, lnd)) {
		*err = xstrdup("listen socket already watched");
		goto fail;
	}
	return lnd;
fail:
	lnd_free(lnd);
	return NULL;
}

static bool all_stopped(void *arg)
{
	struct lnd *lnd = arg;
	for (size_t i = 0; i < lnd->nplugins; i++)
		if (lnd->plugins[i]->state != PL_DEAD)
			return false;
	return true;
}

void lnd_stop_plugins(struct lnd *lnd)
{
	if (lnd->stopped)
		return;
	lnd->stopped = true;
	{
		json_t *empty = json_object();
		log_notification(lnd, "notification", "shutdown", empty);
		json_decref(empty);
	}
	/* As lightningd does at shutdown: tell subscribers, wait a little
	 * for them to exit, then kill what remains. */
	for (size_t i = 0; i < lnd->nplugins; i++) {
		struct lplugin *pl = lnd->plugins[i];
		if (pl->state == PL_DEAD)
			continue;
		if (plugin_subscribed(pl, "shutdown"))
			plugin_notify_raw(pl, "shutdown",
					  json_pack("{s:{}}", "shutdown"));
		else
			kill(pl->pid, SIGKILL);
		pl->stopping = true;
	}
	serve_until(lnd, all_stopped, lnd, PLUGIN_STOP_GRACE_MS);
	for (size_t i = 0; i < lnd->nplugins; i++) {
		struct lplugin *pl = lnd->plugins[i];
		if (pl->state != PL_DEAD) {
			kill(pl->pid, SIGKILL);
			plugin_dead(pl, "killed at shutdown");
		}
		/* A plugin that exits non-zero at shutdown (e.g. a leak
		 * report from the sanitizer) is a failure too. A plugin we
		 * killed because it disabled itself is not. */
		if (!pl->reaped || pl->disable_reason ||
		    (WIFEXITED(pl->exit_status) &&
		     WEXITSTATUS(pl->exit_status) == 0))
			continue;
		char *st = describe_status(pl->exit_status);
		char *tail = stderr_tail(pl);
		set_failure(lnd, xfmt("plugin %s exited with %s at shutdown; "
				      "stderr:\n%s",
				      pl->name, st, tail));
		free(st);
		free(tail);
	}
}

void lnd_free(struct lnd *lnd)
{
	struct pending *p;

	if (!lnd)
		return;
	lnd_stop_plugins(lnd);
	/* Before the clients go: held requests can still be answered. */
	for (int k = 0; k < LND_EXT_SLOTS; k++) {
		if (lnd->ext_destroy[k])
			lnd->ext_destroy[k](lnd->ext[k]);
		lnd->ext[k] = NULL;
		lnd->ext_destroy[k] = NULL;
	}
	while (lnd->clients)
		client_close(lnd->clients);
	while ((p = u64map_pop_any(lnd->pending, NULL)) != NULL) {
		if (p->kind == PEND_FORWARD)
			req_free(p->req);
		free(p);
	}
	for (size_t i = 0; i < lnd->nplugins; i++)
		plugin_destroy(lnd->plugins[i]);
	free(lnd->plugins);
	for (size_t i = 0; i < lnd->nqueue; i++) {
		free(lnd->queue[i].name);
		json_decref(lnd->queue[i].params);
	}
	free(lnd->queue);
	if (lnd->listen_fd >= 0) {
		loop_remove_fd(lnd->cfg.loop, lnd->listen_fd);
		close(lnd->listen_fd);
		unlink(lnd->sock_path);
	}
	u64map_free(lnd->pending);
	for (size_t i = 0; i < lnd->nheld; i++)
		req_free(lnd->held[i]);
	free(lnd->held);
	json_decref(lnd->faults);
	if (lnd->log)
		fclose(lnd->log);
	if (lnd->notify_log)
		fclose(lnd->notify_log);
	free(lnd->failure);
	free(lnd->sock_path);
	free(lnd->dir);
	free(lnd);
}
