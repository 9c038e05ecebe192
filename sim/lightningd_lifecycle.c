/* Making and ending a fake lightningd: lnd_new creates its directory,
 * the config file `lightning-cli` reads, its logs and the lightning-rpc
 * socket; lnd_free stops its plugins (lnd_stop_plugins), closes its
 * clients and frees what the other parts hold. */
#include "common/loop.h"
#include "common/u64map.h"
#include "common/util.h"
#include "sim/lightningd.h"
#include "sim/lightningd_internal.h"
#include "sim/net.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
