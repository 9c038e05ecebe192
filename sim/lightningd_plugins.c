/* Plugin processes of the fake lightningd: spawned with the environment
 * lightningd gives them (and the simulated clock and seed), spoken to as
 * JSON-RPC over their stdin/stdout, watched until they exit, and stopped
 * as lightningd stops them (the `plugin stop` command, and shutdown). A
 * plugin that crashes, hangs or breaks the protocol leaves a report with
 * the tail of its stderr (lnd_plugin_failure). */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/jsonrpc_io.h"
#include "common/u64map.h"
#include "common/util.h"
#include "sim/lightningd.h"
#include "sim/lightningd_internal.h"
#include "sim/net.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIM_VERSION "v26.06-hive-sim"
/* lightningd gives a stopping plugin 30 s; tests should not wait that. */
#define PLUGIN_STOP_GRACE_MS 5000

/* ---------- talking to a plugin ---------- */

static void plugin_send(struct lplugin *pl, json_t *msg)
{
	if (pl->conn && pl->state != PL_DEAD)
		jsonrpc_conn_send(pl->conn, msg);
	else
		json_decref(msg);
}

/* Send a request to @pl; @cb gets the whole reply message. */
void lplugin_request(struct lplugin *pl, const char *idprefix,
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

void lplugin_notify(struct lplugin *pl, const char *method, json_t *params)
{
	plugin_send(pl, json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method",
				  method, "params", params));
}

bool lplugin_subscribed(const struct lplugin *pl, const char *topic)
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

/* ---------- a plugin that went away ---------- */

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

void lplugin_dead(struct lplugin *pl, const char *why)
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
		tail = lplugin_stderr_tail(pl);
		lnd_set_failure(lnd, xfmt("plugin %s on node %s died (%s%s%s, "
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

/* ---------- what a plugin says ---------- */

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
		if (pl->state != PL_RUNNING || !lplugin_subscribed(pl, method))
			continue;
		lplugin_notify(pl, method,
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
		char *t = json_to_text(msg), *tail = lplugin_stderr_tail(pl);
		lnd_set_failure(lnd,
				xfmt("plugin %s on node %s wrote a message "
				     "without \"jsonrpc\": %.200s; stderr:\n%s",
				     pl->name, lnd_alias(lnd), t, tail));
		free(t);
		free(tail);
		kill(pl->pid, SIGKILL);
		lplugin_dead(pl, "protocol violation");
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
		lnd_req_send(p->req, out);
	} else if (p->cb) {
		p->cb(pl, msg, p->arg);
	}
	free(p);
	(void)c;
}

static void on_plugin_bad(struct jsonrpc_conn *c, const char *err, void *arg)
{
	struct lplugin *pl = arg;
	char *tail = lplugin_stderr_tail(pl);
	lnd_set_failure(pl->lnd, xfmt("plugin %s on node %s wrote non-JSON to "
				      "stdout: %s; stderr:\n%s",
				      pl->name, lnd_alias(pl->lnd), err, tail));
	free(tail);
	kill(pl->pid, SIGKILL);
	lplugin_dead(pl, "garbage on stdout");
	(void)c;
}

static void on_plugin_close(struct jsonrpc_conn *c, const char *err,
			    void *arg)
{
	lplugin_dead(arg, err ? err : "stdout closed");
	(void)c;
}

static const struct jsonrpc_conn_ops plugin_ops = {
	.on_message = on_plugin_message,
	.on_bad = on_plugin_bad,
	.on_close = on_plugin_close,
};

/* ---------- processes ---------- */

struct lplugin *lplugin_spawn(struct lnd *lnd, const char *path,
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

void lplugin_destroy(struct lplugin *pl)
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

size_t lnd_num_plugins(const struct lnd *lnd)
{
	size_t n = 0;
	for (size_t i = 0; i < lnd->nplugins; i++)
		n += lnd->plugins[i]->state == PL_RUNNING;
	return n;
}

char *lplugin_stderr_tail(const struct lplugin *pl)
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

/* ---------- stopping ---------- */

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
	if (lplugin_subscribed(pl, "shutdown"))
		lplugin_notify(pl, "shutdown",
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
		lnd_log_notification(lnd, "notification", "shutdown", empty);
		json_decref(empty);
	}
	/* As lightningd does at shutdown: tell subscribers, wait a little
	 * for them to exit, then kill what remains. */
	for (size_t i = 0; i < lnd->nplugins; i++) {
		struct lplugin *pl = lnd->plugins[i];
		if (pl->state == PL_DEAD)
			continue;
		if (lplugin_subscribed(pl, "shutdown"))
			lplugin_notify(pl, "shutdown",
				       json_pack("{s:{}}", "shutdown"));
		else
			kill(pl->pid, SIGKILL);
		pl->stopping = true;
	}
	lnd_serve_until(lnd, all_stopped, lnd, PLUGIN_STOP_GRACE_MS);
	for (size_t i = 0; i < lnd->nplugins; i++) {
		struct lplugin *pl = lnd->plugins[i];
		if (pl->state != PL_DEAD) {
			kill(pl->pid, SIGKILL);
			lplugin_dead(pl, "killed at shutdown");
		}
		/* A plugin that exits non-zero at shutdown (e.g. a leak
		 * report from the sanitizer) is a failure too. A plugin we
		 * killed because it disabled itself is not. */
		if (!pl->reaped || pl->disable_reason ||
		    (WIFEXITED(pl->exit_status) &&
		     WEXITSTATUS(pl->exit_status) == 0))
			continue;
		char *st = describe_status(pl->exit_status);
		char *tail = lplugin_stderr_tail(pl);
		lnd_set_failure(lnd,
				xfmt("plugin %s exited with %s at shutdown; "
				     "stderr:\n%s",
				     pl->name, st, tail));
		free(st);
		free(tail);
	}
}
