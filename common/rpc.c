/* lightning-rpc client; see rpc.h. */
#include "common/rpc.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/u64map.h"
#include "common/util.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct pending {
	struct rpc *rpc;
	uint64_t seq;
	char *method;
	rpc_cb cb;
	void *arg;
	struct loop_timer *timer; /* the reply deadline, or NULL */
};

struct rpc {
	struct loop *loop;
	char *name;
	struct jsonrpc_conn *conn;
	struct u64map *pending;
	uint64_t next_seq;
	uint64_t issued;
	bool freeing;
	/* Calls made while disconnected fail from a zero-delay timer, so the
	 * caller never sees its callback run inside rpc_call itself. */
	struct pending **deferred;
	size_t ndeferred, capdeferred;
	struct loop_timer *deferred_timer;
	uint64_t timeout_ms; /* 0: wait for ever */
};

/* @p leaves the pending set: its deadline no longer matters. */
static void pending_release(struct rpc *rpc, struct pending *p)
{
	if (p->timer)
		loop_cancel_timer(rpc->loop, p->timer);
	p->timer = NULL;
}

static void complete_error(struct pending *p, int code, const char *msg,
			   struct rpc *rpc)
{
	json_t *err = json_pack("{s:i,s:s}", "code", code, "message", msg);
	struct rpc_reply r = {.method = p->method,
			      .error = err,
			      .error_code = code,
			      .error_message = msg};
	pending_release(rpc, p);
	p->cb(rpc, &r, p->arg);
	json_decref(err);
	free(p->method);
	free(p);
}

static void fail_all_pending(struct rpc *rpc, const char *why)
{
	struct pending *p;
	while ((p = u64map_pop_any(rpc->pending, NULL)) != NULL)
		complete_error(p, ERR_LIGHTNINGD, why, rpc);
}

static void on_message(struct jsonrpc_conn *c UNUSED, json_t *msg, void *arg)
{
	struct rpc *rpc = arg;
	const char *id = json_str(msg, "id");
	const char *hash;
	unsigned long long seq;
	struct pending *p;
	json_t *err;

	if (!id || !(hash = strrchr(id, '#')) || !str_to_u64(hash + 1, &seq))
		return; /* not a reply to us (or a notification): ignore */
	p = u64map_del(rpc->pending, seq);
	if (!p)
		return; /* unknown, or answered after its deadline */
	pending_release(rpc, p);

	err = json_object_get(msg, "error");
	if (err) {
		int64_t code = ERR_LIGHTNINGD;
		const char *m = json_str(err, "message");
		json_get_i64(err, "code", &code);
		struct rpc_reply r = {.method = p->method,
				      .error = err,
				      .error_code = (int)code,
				      .error_message = m ? m : "(no message)"};
		p->cb(rpc, &r, p->arg);
	} else {
		json_t *res = json_object_get(msg, "result");
		if (!res) {
			complete_error(p, ERR_LIGHTNINGD,
				       "reply has neither result nor error",
				       rpc);
			return;
		}
		struct rpc_reply r = {.method = p->method, .result = res};
		p->cb(rpc, &r, p->arg);
	}
	free(p->method);
	free(p);
}

static void on_close(struct jsonrpc_conn *c, const char *err, void *arg)
{
	struct rpc *rpc = arg;
	char *why = xfmt("lightning-rpc connection lost%s%s",
			 err ? ": " : "", err ? err : "");

	jsonrpc_conn_free(c);
	rpc->conn = NULL;
	fail_all_pending(rpc, why);
	free(why);
}

static const struct jsonrpc_conn_ops rpc_conn_ops = {
	.on_message = on_message,
	.on_close = on_close,
};

struct rpc *rpc_new(struct loop *loop, const char *name)
{
	struct rpc *rpc = xzalloc(sizeof(*rpc));
	rpc->loop = loop;
	rpc->name = xstrdup(name);
	rpc->pending = u64map_new();
	rpc->next_seq = 1;
	return rpc;
}

bool rpc_connect(struct rpc *rpc, const char *path, char **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	*err = NULL;
	if (rpc->conn)
		return true;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		*err = xfmt("socket path too long: %s", path);
		return false;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = xfmt("socket: %s", strerror(errno));
		return false;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		*err = xfmt("connect %s: %s", path, strerror(errno));
		close(fd);
		return false;
	}
	rpc->conn = jsonrpc_conn_new(rpc->loop, fd, fd, true, &rpc_conn_ops,
				     rpc);
	return true;
}

bool rpc_connected(const struct rpc *rpc)
{
	return rpc->conn != NULL;
}

static void run_deferred(struct loop *loop UNUSED, void *arg)
{
	struct rpc *rpc = arg;
	struct pending **list = rpc->deferred;
	size_t n = rpc->ndeferred;

	rpc->deferred = NULL;
	rpc->ndeferred = rpc->capdeferred = 0;
	rpc->deferred_timer = NULL;
	for (size_t i = 0; i < n; i++)
		complete_error(list[i], ERR_LIGHTNINGD,
			       "not connected to lightning-rpc", rpc);
	free(list);
}

void rpc_free(struct rpc *rpc)
{
	if (!rpc)
		return;
	rpc->freeing = true;
	if (rpc->deferred_timer)
		loop_cancel_timer(rpc->loop, rpc->deferred_timer);
	run_deferred(rpc->loop, rpc);
	fail_all_pending(rpc, "plugin shutting down");
	jsonrpc_conn_free(rpc->conn);
	u64map_free(rpc->pending);
	free(rpc->name);
	free(rpc);
}

void rpc_set_timeout(struct rpc *rpc, uint64_t timeout_ms)
{
	rpc->timeout_ms = timeout_ms;
}

/* lightningd never answered: fail the call; a late reply is dropped. */
static void on_deadline(struct loop *loop UNUSED, void *arg)
{
	struct pending *p = arg;
	struct rpc *rpc = p->rpc;
	char *msg = xfmt("no reply from lightningd within %llu ms",
			 (unsigned long long)rpc->timeout_ms);

	p->timer = NULL;
	u64map_del(rpc->pending, p->seq);
	complete_error(p, ERR_TIMEOUT, msg, rpc);
	free(msg);
}

void rpc_call(struct rpc *rpc, const char *parent_id, const char *method,
	      json_t *params, rpc_cb cb, void *arg)
{
	rpc_call_filtered(rpc, parent_id, method, params, NULL, cb, arg);
}

void rpc_call_filtered(struct rpc *rpc, const char *parent_id,
		       const char *method, json_t *params,
		       const json_t *filter, rpc_cb cb, void *arg)
{
	struct pending *p = xzalloc(sizeof(*p));
	char *id;
	json_t *req;

	p->rpc = rpc;
	p->seq = rpc->next_seq++;
	p->method = xstrdup(method);
	p->cb = cb;
	p->arg = arg;
	rpc->issued++;
	if (!params)
		params = json_object();

	if (rpc->freeing) {
		json_decref(params);
		complete_error(p, ERR_LIGHTNINGD, "plugin shutting down", rpc);
		return;
	}
	if (!rpc->conn) {
		json_decref(params);
		xgrow(&rpc->deferred, &rpc->capdeferred, rpc->ndeferred + 1,
		      sizeof(*rpc->deferred));
		rpc->deferred[rpc->ndeferred++] = p;
		if (!rpc->deferred_timer)
			rpc->deferred_timer =
				loop_add_timer(rpc->loop, 0, run_deferred, rpc);
		return;
	}

	id = parent_id ? xfmt("%s/%s:%s#%llu", parent_id, rpc->name, method,
			      (unsigned long long)p->seq)
		       : xfmt("%s:%s#%llu", rpc->name, method,
			      (unsigned long long)p->seq);
	req = json_pack("{s:s,s:s,s:s,s:o}", "jsonrpc", "2.0", "id", id,
			"method", method, "params", params);
	if (filter)
		json_object_set_new(req, "filter", json_deep_copy(filter));
	free(id);
	u64map_put(rpc->pending, p->seq, p);
	if (rpc->timeout_ms)
		p->timer = loop_add_timer(rpc->loop, rpc->timeout_ms,
					  on_deadline, p);
	if (!jsonrpc_conn_send(rpc->conn, req)) {
		u64map_del(rpc->pending, p->seq);
		pending_release(rpc, p);
		/* The write side failed: the read side will report the close
		 * and fail the others; fail this one from the loop. */
		xgrow(&rpc->deferred, &rpc->capdeferred, rpc->ndeferred + 1,
		      sizeof(*rpc->deferred));
		rpc->deferred[rpc->ndeferred++] = p;
		if (!rpc->deferred_timer)
			rpc->deferred_timer =
				loop_add_timer(rpc->loop, 0, run_deferred, rpc);
	}
}

size_t rpc_in_flight(const struct rpc *rpc)
{
	return u64map_count(rpc->pending) + rpc->ndeferred;
}

uint64_t rpc_calls_issued(const struct rpc *rpc)
{
	return rpc->issued;
}

char *rpc_reply_errtext(const struct rpc_reply *r)
{
	if (!r->error)
		return xfmt("%s: no error", r->method);
	return xfmt("%s: %s (code %d)", r->method, r->error_message,
		    r->error_code);
}

/* --- pagination --- */

struct paginate {
	char *parent_id, *method, *array_key, *index, *index_field;
	uint64_t start, next;
	uint32_t limit;
	json_t *extra;
	bool legacy;
	/* done has been called while the next page was in flight: its reply
	 * only frees this. */
	bool finished;
	rpc_page_cb page;
	rpc_pages_done_cb done;
	void *arg;
};

static void paginate_free(struct paginate *pg)
{
	free(pg->parent_id);
	free(pg->method);
	free(pg->array_key);
	free(pg->index);
	free(pg->index_field);
	json_decref(pg->extra);
	free(pg);
}

static void paginate_request(struct rpc *rpc, struct paginate *pg);

static void paginate_reply(struct rpc *rpc, const struct rpc_reply *r,
			   void *arg)
{
	struct paginate *pg = arg;
	const json_t *items;
	bool full, more;
	size_t n;

	if (pg->finished) {
		paginate_free(pg);
		return;
	}
	if (r->error) {
		/* lightningd before v23.11 rejects the index parameter:
		 * fall back to one unpaginated call. */
		if (!pg->legacy && r->error_code == ERR_INVALID_PARAMS &&
		    strstr(r->error_message, "index")) {
			pg->legacy = true;
			paginate_request(rpc, pg);
			return;
		}
		pg->done(rpc, r, pg->next, pg->arg);
		paginate_free(pg);
		return;
	}
	items = json_object_get(r->result, pg->array_key);
	if (!json_is_array(items)) {
		char *m = xfmt("reply has no '%s' array", pg->array_key);
		json_t *err = json_pack("{s:i,s:s}", "code", ERR_LIGHTNINGD,
					"message", m);
		struct rpc_reply bad = {.method = pg->method,
					.error = err,
					.error_code = ERR_LIGHTNINGD,
					.error_message = m};
		pg->done(rpc, &bad, pg->next, pg->arg);
		json_decref(err);
		free(m);
		paginate_free(pg);
		return;
	}
	n = json_array_size(items);

	json_t *keep = items ? json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i);
		uint64_t idx;
		if (json_get_u64(it, pg->index_field, &idx)) {
			if (idx < pg->start)
				continue;
			if (idx + 1 > pg->next)
				pg->next = idx + 1;
		}
		json_array_append(keep, it);
	}
	/* A full page: ask for the next one before handling this one, so
	 * lightningd builds it while we store this (hydrating a million
	 * forwards takes a third less time). */
	full = !pg->legacy && n == pg->limit && pg->next > pg->start;
	if (full) {
		pg->start = pg->next;
		paginate_request(rpc, pg);
	}
	more = pg->page(rpc, keep, pg->arg);
	json_decref(keep);
	if (more && full)
		return;
	pg->done(rpc, NULL, pg->next, pg->arg);
	if (full)
		pg->finished = true; /* freed when that reply comes */
	else
		paginate_free(pg);
}

static void paginate_request(struct rpc *rpc, struct paginate *pg)
{
	json_t *params = pg->extra ? json_deep_copy(pg->extra) : json_object();

	if (!pg->legacy) {
		json_object_set_new(params, "index", json_string(pg->index));
		json_object_set_new(params, "start", json_integer((json_int_t)pg->start));
		json_object_set_new(params, "limit", json_integer(pg->limit));
	}
	rpc_call(rpc, pg->parent_id, pg->method, params, paginate_reply, pg);
}

void rpc_paginate(struct rpc *rpc, const char *parent_id, const char *method,
		  const char *array_key, const char *index, uint64_t start,
		  uint32_t limit, json_t *extra_params, rpc_page_cb page,
		  rpc_pages_done_cb done, void *arg)
{
	struct paginate *pg = xzalloc(sizeof(*pg));

	pg->parent_id = parent_id ? xstrdup(parent_id) : NULL;
	pg->method = xstrdup(method);
	pg->array_key = xstrdup(array_key);
	pg->index = xstrdup(index);
	pg->index_field = xfmt("%s_index", index);
	pg->start = pg->next = start;
	pg->limit = limit ? limit : 1000;
	pg->extra = extra_params;
	pg->page = page;
	pg->done = done;
	pg->arg = arg;
	paginate_request(rpc, pg);
}
