/* Fake lightningd for one simulated node (see lightningd.h). It is made
 * of six files, each using only those listed before it; they share the
 * node's state through lightningd_internal.h:
 *   lightningd.c           what every part uses: logging (the log file,
 *                          the notification record, the failure report),
 *                          accessors, waiting on I/O, and the answer to a
 *                          request, filtered as lightningd filters it
 *   lightningd_plugins.c   plugin processes: spawn, the stdin/stdout
 *                          channel (and the custom notifications plugins
 *                          relay to each other), death, stop, shutdown
 *   lightningd_hooks.c     notifications and chained hooks, queued and
 *                          handed over at lnd_sync with the ticks
 *   lightningd_rpc.c       lightning-rpc clients and the method table:
 *                          a request goes to a built-in method
 *                          (sim/methods*.c) or to the plugin that
 *                          registered the name; injected faults; help
 *   lightningd_manifest.c  the handshake: getmanifest, typed options,
 *                          init, at startup and through `plugin start`;
 *                          setconfig of a plugin's options
 *   lightningd_lifecycle.c lnd_new and lnd_free */
#include "sim/lightningd.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/util.h"
#include "sim/lightningd_internal.h"
#include "sim/net.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

void lnd_log_notification(struct lnd *lnd, const char *kind,
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

/* ---------- requests and their answers ---------- */

static struct client *client_find(struct lnd *lnd, uint64_t id)
{
	for (struct client *c = lnd->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

void lnd_req_free(struct lnd_req *req)
{
	json_decref(req->filter);
	json_decref(req->id);
	free(req->method);
	free(req);
}

void lnd_req_send(struct lnd_req *req, json_t *msg)
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
	lnd_req_free(req);
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
	lnd_req_send(req, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id",
				    req->id, "result", result));
}

void lnd_req_fail(struct lnd_req *req, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	lnd_req_send(req, json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0",
				    "id", req->id, "error", "code", code,
				    "message", msg));
	free(msg);
}

void lnd_req_fail_data(struct lnd_req *req, int code, const char *message,
		       json_t *data)
{
	lnd_req_send(req, json_pack("{s:s,s:O,s:{s:i,s:s,s:o}}", "jsonrpc",
				    "2.0", "id", req->id, "error", "code",
				    code, "message", message, "data", data));
}
