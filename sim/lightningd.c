/* Fake lightningd for one simulated node (see lightningd.h): the node
 * itself, its directory, config file, log and socket, made and torn down
 * here. What it does is in the files beside it, which share its state
 * through lightningd_internal.h:
 *   lightningd_rpc.c       the lightning-rpc socket and the method table:
 *                          requests routed to a built-in method
 *                          (sim/methods*.c) or to the plugin that
 *                          registered the name; injected faults; help
 *   lightningd_plugins.c   plugin processes: spawn, the stdin/stdout
 *                          channel, death, stop and shutdown
 *   lightningd_manifest.c  the handshake: getmanifest, typed options,
 *                          init, at startup and through `plugin start`;
 *                          setconfig of a plugin's options
 *   lightningd_hooks.c     notifications and chained hooks, queued and
 *                          handed over at lnd_sync with the ticks */
#include "sim/lightningd.h"
#include "common/loop.h"
#include "common/u64map.h"
#include "common/util.h"
#include "sim/lightningd_internal.h"
#include "sim/net.h"
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

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

void lnd_set_failure(struct lnd *lnd, char *text)
{
	lnd_log(lnd, "BROKEN", "hive-sim", "%s", text);
	if (!lnd->failure)
		lnd->failure = text;
	else
		free(text);
}

const char *lnd_alias(const struct lnd *lnd)
{
	return lnd->cfg.net->nodes[lnd->cfg.node_idx].alias;
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

const struct sim_hooks *lnd_sim_hooks(const struct lnd *lnd, void **arg)
{
	*arg = lnd->cfg.hooks_arg;
	return lnd->cfg.hooks;
}

/* ---------- waiting ---------- */

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Serve I/O until @done(arg) or the timeout; false on timeout. */
bool lnd_serve_until(struct lnd *lnd, bool (*done)(void *), void *arg,
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
	if (!loop_add_fd(cfg->loop, lnd->listen_fd, POLLIN, lnd_rpc_accept,
			 lnd)) {
		*err = xstrdup("listen socket already watched");
		goto fail;
	}
	return lnd;
fail:
	lnd_free(lnd);
	return NULL;
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
		lnd_client_close(lnd->clients);
	while ((p = u64map_pop_any(lnd->pending, NULL)) != NULL) {
		if (p->kind == PEND_FORWARD)
			lnd_req_free(p->req);
		free(p);
	}
	for (size_t i = 0; i < lnd->nplugins; i++)
		lplugin_destroy(lnd->plugins[i]);
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
		lnd_req_free(lnd->held[i]);
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
