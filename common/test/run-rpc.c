/* Unit tests for common/rpc.c against a fake lightning-rpc server: a Unix
 * socket in a temporary directory, accepted and served inside the same
 * struct loop as the client. Covers ids (chained to a parent), many calls in
 * flight answered out of order, error replies, calls while disconnected
 * (failed from the loop, never inside rpc_call), connection loss, rpc_free
 * with calls pending, rpc_paginate (pages, next_start, early stop,
 * errors, and the fallback for lightningd without `index`), and reply
 * deadlines (rpc_set_timeout) on a simulated clock. */
#include "common/clock.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/rpc.h"
#include "tests/check.h"
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---------- fake server ---------- */

enum srv_mode {
	SRV_HOLD,	  /* keep requests for the test to answer */
	SRV_FORWARDS,	  /* answer listforwards with index/start/limit */
	SRV_LEGACY,	  /* refuse "index" like lightningd < v23.11 */
};

struct server {
	struct loop *loop;
	int listen_fd;
	struct jsonrpc_conn *conn;
	int accepts;
	enum srv_mode mode;
	json_t *held;	  /* requests not yet answered */
	json_t *seen;	  /* every request received */
	/* SRV_FORWARDS / SRV_LEGACY: the created_index of each item. */
	const uint64_t *indexes;
	size_t nindexes;
	int fail_request; /* answer request number N (1-based) with an error */
	const char *fail_message;
	int fail_code;
	bool omit_array;  /* answer without the "forwards" array */
};

static struct server srv;
static char sock_path[108], tmpdir[64];

static void srv_reply(json_t *req, json_t *result)
{
	json_t *r = json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id",
			      json_object_get(req, "id"), "result", result);
	if (!jsonrpc_conn_send(srv.conn, r))
		abort();
}

static void srv_error(json_t *req, int code, const char *msg)
{
	json_t *r = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
			      json_object_get(req, "id"), "error", "code", code,
			      "message", msg);
	if (!jsonrpc_conn_send(srv.conn, r))
		abort();
}

static void srv_forwards(json_t *req)
{
	json_t *params = json_object_get(req, "params");
	json_t *idx = json_object_get(params, "index");
	uint64_t start = 0, limit = UINT64_MAX;
	json_t *items = json_array();
	int n = (int)json_array_size(srv.seen);

	if (n == srv.fail_request) {
		json_decref(items);
		srv_error(req, srv.fail_code, srv.fail_message);
		return;
	}
	if (idx) {
		if (srv.mode == SRV_LEGACY) {
			json_decref(items);
			srv_error(req, -32602,
				  "Unknown parameter 'index'");
			return;
		}
		start = (uint64_t)json_integer_value(
			json_object_get(params, "start"));
		limit = (uint64_t)json_integer_value(
			json_object_get(params, "limit"));
	}
	for (size_t i = 0; i < srv.nindexes && json_array_size(items) < limit;
	     i++) {
		if (srv.indexes[i] < start)
			continue;
		json_array_append_new(
			items, json_pack("{s:I,s:s,s:I}", "created_index",
					 (json_int_t)srv.indexes[i], "status",
					 "settled", "in_msat",
					 (json_int_t)(srv.indexes[i] * 1000)));
	}
	if (srv.omit_array) {
		json_decref(items);
		srv_reply(req, json_pack("{s:i}", "something", 1));
		return;
	}
	srv_reply(req, json_pack("{s:o}", "forwards", items));
}

static void srv_on_message(struct jsonrpc_conn *c, json_t *msg, void *arg)
{
	json_array_append(srv.seen, msg);
	if (srv.mode == SRV_HOLD)
		json_array_append(srv.held, msg);
	else
		srv_forwards(msg);
}

static void srv_on_close(struct jsonrpc_conn *c, const char *err, void *arg)
{
	jsonrpc_conn_free(c);
	srv.conn = NULL;
}

static const struct jsonrpc_conn_ops srv_ops = {
	.on_message = srv_on_message, .on_close = srv_on_close};

static void srv_accept(struct loop *loop, int fd, short rev, void *arg)
{
	int c = accept(fd, NULL, NULL);
	if (c < 0)
		return;
	if (srv.conn) /* one client at a time */
		jsonrpc_conn_free(srv.conn);
	srv.conn = jsonrpc_conn_new(loop, c, c, true, &srv_ops, NULL);
	srv.accepts++;
}

static void srv_start(struct loop *loop)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	memset(&srv, 0, sizeof(srv));
	srv.loop = loop;
	srv.held = json_array();
	srv.seen = json_array();
	srv.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(addr.sun_path, sock_path);
	unlink(sock_path);
	if (bind(srv.listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(srv.listen_fd, 8) != 0 ||
	    !loop_add_fd(loop, srv.listen_fd, POLLIN, srv_accept, NULL))
		abort();
}

static void srv_drop_conn(void)
{
	if (srv.conn)
		jsonrpc_conn_free(srv.conn);
	srv.conn = NULL;
}

static void srv_stop(void)
{
	srv_drop_conn();
	loop_remove_fd(srv.loop, srv.listen_fd);
	close(srv.listen_fd);
	unlink(sock_path);
	json_decref(srv.held);
	json_decref(srv.seen);
}

static void srv_reset_requests(void)
{
	json_array_clear(srv.held);
	json_array_clear(srv.seen);
}

/* ---------- client-side recording ---------- */

struct outcome {
	int calls;	/* times the callback ran (must end at 1) */
	bool in_rpc_call; /* ran while rpc_call was still on the stack */
	bool error;
	int code;
	char *message, *errtext, *method;
	json_t *result;
};

static bool inside_rpc_call;

static void record(struct rpc *rpc, const struct rpc_reply *r, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->in_rpc_call = inside_rpc_call;
	free(o->method);
	o->method = strdup(r->method);
	if (r->error) {
		o->error = true;
		o->code = r->error_code;
		free(o->message);
		o->message = strdup(r->error_message);
		free(o->errtext);
		o->errtext = rpc_reply_errtext(r);
	} else {
		json_decref(o->result);
		o->result = json_deep_copy(r->result);
	}
}

static void outcome_clear(struct outcome *o)
{
	free(o->message);
	free(o->errtext);
	free(o->method);
	json_decref(o->result);
	memset(o, 0, sizeof(*o));
}

static void call(struct rpc *rpc, const char *parent, const char *method,
		 json_t *params, struct outcome *o)
{
	inside_rpc_call = true;
	rpc_call(rpc, parent, method, params, record, o);
	inside_rpc_call = false;
}

/* Run the loop until @cond or a bound on passes (each waits at most one
 * second: a hang becomes a failure, not a delay). */
#define RUN_UNTIL(loop, cond)                                                 \
	do {                                                                  \
		for (int pass_ = 0; pass_ < 200 && !(cond); pass_++)          \
			if (!loop_run_once((loop), 1000))                     \
				break;                                        \
	} while (0)

static int count_done(struct outcome *o, size_t n)
{
	int d = 0;
	for (size_t i = 0; i < n; i++)
		d += o[i].calls > 0;
	return d;
}

/* ---------- tests ---------- */

static void test_connect_errors(struct loop *loop)
{
	struct rpc *rpc = rpc_new(loop, "test");
	char *err = NULL, longpath[300];
	char missing[200];

	snprintf(missing, sizeof(missing), "%s/no-such-socket", tmpdir);
	CHECK(!rpc_connect(rpc, missing, &err) && err &&
		      strstr(err, "no-such-socket"),
	      "connect to a missing socket fails: %s", err ? err : "(none)");
	free(err);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	err = NULL;
	CHECK(!rpc_connect(rpc, longpath, &err) && err &&
		      strstr(err, "too long"),
	      "overlong socket path refused: %.40s", err ? err : "(none)");
	free(err);
	CHECK(!rpc_connected(rpc), "not connected");
	rpc_free(rpc);
	rpc_free(NULL);
}

static void test_not_connected(struct loop *loop)
{
	struct rpc *rpc = rpc_new(loop, "test");
	struct outcome o[3] = {0};

	for (int i = 0; i < 3; i++)
		call(rpc, NULL, "getinfo", NULL, &o[i]);
	CHECK_EQ_INT(count_done(o, 3), 0,
		     "disconnected calls do not complete inside rpc_call");
	CHECK_EQ_INT(rpc_in_flight(rpc), 3, "three in flight");
	CHECK_EQ_INT(rpc_calls_issued(rpc), 3, "three issued");
	(void)loop_run_once(loop, 0);
	CHECK_EQ_INT(count_done(o, 3), 3, "completed from the loop");
	for (int i = 0; i < 3; i++) {
		CHECK(o[i].calls == 1 && !o[i].in_rpc_call && o[i].error &&
			      o[i].code == -1 && o[i].message &&
			      strstr(o[i].message, "not connected"),
		      "call %d failed once with 'not connected' (%s)", i,
		      o[i].message ? o[i].message : "-");
		CHECK_EQ_STR(o[i].method, "getinfo", "reply names the method");
		outcome_clear(&o[i]);
	}
	CHECK_EQ_INT(rpc_in_flight(rpc), 0, "none in flight");

	/* rpc_free before the loop runs still completes them (once). */
	call(rpc, NULL, "a", NULL, &o[0]);
	call(rpc, NULL, "b", NULL, &o[1]);
	rpc_free(rpc);
	CHECK(o[0].calls == 1 && o[1].calls == 1 && o[0].error && o[1].error,
	      "rpc_free completes deferred calls");
	(void)loop_run_once(loop, 0);
	CHECK(o[0].calls == 1 && o[1].calls == 1,
	      "and no timer fires for them afterwards");
	outcome_clear(&o[0]);
	outcome_clear(&o[1]);
}

enum { NCALLS = 60 };

static void test_out_of_order(struct loop *loop)
{
	struct rpc *rpc = rpc_new(loop, "test-plugin");
	struct outcome o[NCALLS] = {{0}};
	char *err = NULL;
	size_t order[NCALLS];
	uint64_t x = 12345;
	int id_bad = 0, wrong = 0;

	srv_start(loop);
	CHECK(rpc_connect(rpc, sock_path, &err), "connect: %s",
	      err ? err : "ok");
	free(err);
	CHECK(rpc_connected(rpc), "connected");
	CHECK(rpc_connect(rpc, sock_path, &err) && err == NULL,
	      "connect again while connected is a no-op");

	for (int i = 0; i < NCALLS; i++)
		call(rpc, i % 2 ? "cli:doit#42" : NULL, "echo",
		     json_pack("{s:i}", "n", i), &o[i]);
	CHECK_EQ_INT(rpc_in_flight(rpc), NCALLS, "%d in flight", NCALLS);
	RUN_UNTIL(loop, json_array_size(srv.held) == NCALLS);
	CHECK_EQ_INT(json_array_size(srv.held), NCALLS,
		     "server received all requests");
	CHECK_EQ_INT(count_done(o, NCALLS), 0, "no callback before replies");

	/* Ids: "<parent>/<name>:<method>#<seq>" or "<name>:<method>#<seq>". */
	for (size_t i = 0; i < json_array_size(srv.held); i++) {
		json_t *req = json_array_get(srv.held, i);
		const char *id = json_string_value(json_object_get(req, "id"));
		int n = (int)json_integer_value(
			json_object_get(json_object_get(req, "params"), "n"));
		char want[80];
		if (n % 2)
			snprintf(want, sizeof(want),
				 "cli:doit#42/test-plugin:echo#%d", n + 1);
		else
			snprintf(want, sizeof(want), "test-plugin:echo#%d",
				 n + 1);
		if (!id || strcmp(id, want) != 0 ||
		    strcmp(json_string_value(json_object_get(req, "jsonrpc")),
			   "2.0") != 0 ||
		    strcmp(json_string_value(json_object_get(req, "method")),
			   "echo") != 0) {
			if (id_bad++ < 3)
				printf("# request %zu: id %s want %s\n", i,
				       id ? id : "(none)", want);
		}
	}
	CHECK_EQ_INT(id_bad, 0,
		     "ids, jsonrpc and method of every request (e.g. "
		     "cli:doit#42/test-plugin:echo#2)");

	/* Answer in a shuffled order; every 7th with an error; noise
	 * between (unknown id, notification, id without '#'). */
	for (size_t i = 0; i < NCALLS; i++)
		order[i] = i;
	for (size_t i = NCALLS - 1; i > 0; i--) {
		size_t j;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (i + 1);
		size_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t k = 0; k < NCALLS; k++) {
		json_t *req = json_array_get(srv.held, order[k]);
		int n = (int)json_integer_value(
			json_object_get(json_object_get(req, "params"), "n"));
		if (n % 7 == 0)
			srv_error(req, 1000 + n, "refused on purpose");
		else
			srv_reply(req, json_pack("{s:i}", "echoed", n));
		if (k == 10) {
			if (!jsonrpc_conn_send(srv.conn,
					       json_pack("{s:s,s:s,s:{}}",
							 "jsonrpc", "2.0",
							 "method", "log",
							 "params")) ||
			    !jsonrpc_conn_send(srv.conn,
					       json_pack("{s:s,s:s,s:{}}",
							 "jsonrpc", "2.0", "id",
							 "test-plugin:echo#999",
							 "result")) ||
			    !jsonrpc_conn_send(srv.conn,
					       json_pack("{s:s,s:s,s:{}}",
							 "jsonrpc", "2.0", "id",
							 "no-hash", "result")))
				abort();
		}
	}
	RUN_UNTIL(loop, count_done(o, NCALLS) == NCALLS);
	for (int i = 0; i < NCALLS; i++) {
		bool ok;
		if (i % 7 == 0) {
			char want[80];
			snprintf(want, sizeof(want),
				 "echo: refused on purpose (code %d)", 1000 + i);
			ok = o[i].calls == 1 && o[i].error &&
			     o[i].code == 1000 + i &&
			     !strcmp(o[i].message, "refused on purpose") &&
			     !strcmp(o[i].errtext, want);
		} else {
			ok = o[i].calls == 1 && !o[i].error &&
			     json_integer_value(json_object_get(
				     o[i].result, "echoed")) == i;
		}
		if (!ok) {
			if (wrong++ < 5)
				printf("# call %d: calls %d error %d code %d "
				       "errtext %s\n",
				       i, o[i].calls, o[i].error, o[i].code,
				       o[i].errtext ? o[i].errtext : "-");
		}
	}
	CHECK_EQ_INT(wrong, 0,
		     "%d replies answered out of order reach their own "
		     "callbacks (errors with code, message and errtext)",
		     NCALLS);
	CHECK_EQ_INT(rpc_in_flight(rpc), 0, "nothing in flight");
	CHECK_EQ_INT(rpc_calls_issued(rpc), NCALLS, "calls issued");
	for (int i = 0; i < NCALLS; i++)
		outcome_clear(&o[i]);

	/* A reply with neither result nor error, and an error without a
	 * message. */
	srv_reset_requests();
	call(rpc, NULL, "odd", NULL, &o[0]);
	call(rpc, NULL, "odd2", NULL, &o[1]);
	RUN_UNTIL(loop, json_array_size(srv.held) == 2);
	CHECK(json_is_object(json_object_get(json_array_get(srv.held, 0),
					     "params")),
	      "NULL params sent as {}");
	if (json_array_size(srv.held) == 2) {
		json_t *r0 = json_array_get(srv.held, 0);
		json_t *r1 = json_array_get(srv.held, 1);
		if (!jsonrpc_conn_send(srv.conn,
				       json_pack("{s:s,s:O}", "jsonrpc", "2.0",
						 "id", json_object_get(r0, "id"))) ||
		    !jsonrpc_conn_send(srv.conn,
				       json_pack("{s:s,s:O,s:{s:i}}", "jsonrpc",
						 "2.0", "id",
						 json_object_get(r1, "id"),
						 "error", "code", 77)))
			abort();
	}
	RUN_UNTIL(loop, count_done(o, 2) == 2);
	CHECK(o[0].error && o[0].message && strstr(o[0].message, "neither"),
	      "reply without result or error is an error: %s",
	      o[0].message ? o[0].message : "-");
	CHECK(o[1].error && o[1].code == 77 && o[1].message &&
		      strlen(o[1].message) > 0,
	      "error without message: code 77, message '%s'",
	      o[1].message ? o[1].message : "(null)");
	outcome_clear(&o[0]);
	outcome_clear(&o[1]);

	/* Connection loss fails every pending call, from the loop. */
	srv_reset_requests();
	for (int i = 0; i < 5; i++)
		call(rpc, NULL, "hang", NULL, &o[i]);
	RUN_UNTIL(loop, json_array_size(srv.held) == 5);
	srv_drop_conn();
	RUN_UNTIL(loop, count_done(o, 5) == 5);
	for (int i = 0; i < 5; i++) {
		CHECK(o[i].calls == 1 && o[i].error && o[i].code == -1 &&
			      o[i].message &&
			      strstr(o[i].message, "connection lost"),
		      "pending call %d failed on connection loss: %s", i,
		      o[i].message ? o[i].message : "-");
		outcome_clear(&o[i]);
	}
	CHECK(!rpc_connected(rpc), "disconnected after loss");
	CHECK_EQ_INT(rpc_in_flight(rpc), 0, "nothing in flight after loss");

	/* After the loss a call fails from the loop; reconnecting works. */
	call(rpc, NULL, "after", NULL, &o[0]);
	CHECK_EQ_INT(o[0].calls, 0, "not completed inside rpc_call");
	RUN_UNTIL(loop, o[0].calls > 0);
	CHECK(o[0].error && strstr(o[0].message, "not connected"),
	      "call after loss fails: %s", o[0].message ? o[0].message : "-");
	outcome_clear(&o[0]);
	CHECK(rpc_connect(rpc, sock_path, &err), "reconnect");
	free(err);
	srv_reset_requests();
	call(rpc, "parent", "again", json_pack("[i]", 5), &o[0]);
	RUN_UNTIL(loop, json_array_size(srv.held) == 1);
	CHECK(json_is_array(json_object_get(json_array_get(srv.held, 0),
					    "params")),
	      "array params passed through");
	if (json_array_size(srv.held) == 1)
		srv_reply(json_array_get(srv.held, 0), json_pack("{s:b}", "ok", 1));
	RUN_UNTIL(loop, o[0].calls > 0);
	CHECK(o[0].calls == 1 && !o[0].error, "call on the new connection");
	CHECK_EQ_INT(srv.accepts, 2, "server saw two connections");
	outcome_clear(&o[0]);

	/* rpc_free with calls in flight completes them all, once. */
	srv_reset_requests();
	for (int i = 0; i < 4; i++)
		call(rpc, NULL, "pending", NULL, &o[i]);
	RUN_UNTIL(loop, json_array_size(srv.held) == 4);
	rpc_free(rpc);
	for (int i = 0; i < 4; i++) {
		CHECK(o[i].calls == 1 && o[i].error && o[i].message &&
			      strstr(o[i].message, "shutting down"),
		      "rpc_free completed pending call %d: %s", i,
		      o[i].message ? o[i].message : "-");
	}
	/* Late replies to a freed client go nowhere (the send may fail:
	 * the client side is closed). */
	for (size_t i = 0; i < json_array_size(srv.held) && srv.conn; i++)
		(void)jsonrpc_conn_send(
			srv.conn,
			json_pack("{s:s,s:O,s:{}}", "jsonrpc", "2.0", "id",
				  json_object_get(json_array_get(srv.held, i),
						  "id"),
				  "result"));
	for (int p = 0; p < 3; p++)
		(void)loop_run_once(loop, 10);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(o[i].calls, 1, "call %d completed exactly once", i);
		outcome_clear(&o[i]);
	}
	srv_stop();
}

/* A callback that issues the next call itself (chained work). */
struct chain {
	struct rpc *rpc;
	int remaining, done;
};

static void chain_cb(struct rpc *rpc, const struct rpc_reply *r, void *arg)
{
	struct chain *c = arg;
	c->done++;
	if (--c->remaining > 0)
		rpc_call(rpc, "chain", "next", NULL, chain_cb, c);
}

static void test_chained(struct loop *loop)
{
	struct rpc *rpc = rpc_new(loop, "t");
	struct chain c = {.rpc = rpc, .remaining = 5};
	char *err = NULL;

	srv_start(loop);
	srv.mode = SRV_FORWARDS; /* answers everything at once */
	if (!rpc_connect(rpc, sock_path, &err))
		abort();
	rpc_call(rpc, "chain", "next", NULL, chain_cb, &c);
	RUN_UNTIL(loop, c.done == 5);
	CHECK_EQ_INT(c.done, 5, "calls issued from callbacks complete");
	CHECK_EQ_STR(json_string_value(json_object_get(
			     json_array_get(srv.seen, 4), "id")),
		     "chain/t:next#5", "fifth chained id");
	rpc_free(rpc);
	srv_stop();
}

/* ---------- pagination ---------- */

struct pages {
	int npages;
	size_t sizes[16];
	uint64_t first[16], last[16];
	int stop_after; /* return false after this many pages (0: never) */
	/* Calls issued since rpc_paginate when page @issued_at_page is
	 * handled (0: not measured). */
	int issued_at_page;
	uint64_t issued_before;
	size_t issued_by_then;
	bool done;
	int done_calls;
	uint64_t next_start;
	bool error;
	int error_code;
	char *error_message;
};

static bool page_cb(struct rpc *rpc, const json_t *items, void *arg)
{
	struct pages *p = arg;
	size_t n = json_array_size(items);

	if (p->npages < 16) {
		p->sizes[p->npages] = n;
		p->first[p->npages] =
			n ? (uint64_t)json_integer_value(json_object_get(
				    json_array_get(items, 0), "created_index"))
			  : 0;
		p->last[p->npages] =
			n ? (uint64_t)json_integer_value(json_object_get(
				    json_array_get(items, n - 1),
				    "created_index"))
			  : 0;
	}
	p->npages++;
	if (p->issued_at_page && p->npages == p->issued_at_page)
		p->issued_by_then =
			(size_t)(rpc_calls_issued(rpc) - p->issued_before);
	return !(p->stop_after && p->npages >= p->stop_after);
}

static void done_cb(struct rpc *rpc, const struct rpc_reply *error,
		    uint64_t next_start, void *arg)
{
	struct pages *p = arg;
	p->done = true;
	p->done_calls++;
	p->next_start = next_start;
	if (error) {
		p->error = true;
		p->error_code = error->error_code;
		p->error_message = strdup(error->error_message);
	}
}

static const uint64_t idx_1_25[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,
				    10, 11, 12, 13, 14, 15, 16, 17, 18,
				    19, 20, 21, 22, 23, 24, 25};

/* Request k's params as text, for comparing. */
static char *request_params(size_t k)
{
	json_t *p = json_object_get(json_array_get(srv.seen, k), "params");
	return json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
}

static void paginate(struct loop *loop, struct rpc *rpc, uint64_t start,
		     uint32_t limit, json_t *extra, struct pages *p)
{
	srv_reset_requests();
	p->issued_before = rpc_calls_issued(rpc);
	rpc_paginate(rpc, "cycle#1", "listforwards", "forwards", "created",
		     start, limit, extra, page_cb, done_cb, p);
	RUN_UNTIL(loop, p->done);
}

static void check_requests(const char *what, const char *const *want,
			   size_t n)
{
	int bad = 0;
	if (json_array_size(srv.seen) != n) {
		printf("# %s: %zu requests, want %zu\n", what,
		       json_array_size(srv.seen), n);
		bad++;
	}
	for (size_t k = 0; k < n && k < json_array_size(srv.seen); k++) {
		char *got = request_params(k);
		if (strcmp(got, want[k]) != 0) {
			printf("# %s: request %zu params %s want %s\n", what,
			       k, got, want[k]);
			bad++;
		}
		free(got);
	}
	CHECK_EQ_INT(bad, 0, "%s: requests as expected", what);
}

static void test_paginate(struct loop *loop)
{
	struct rpc *rpc = rpc_new(loop, "pg");
	char *err = NULL;
	struct pages p;

	srv_start(loop);
	srv.mode = SRV_FORWARDS;
	srv.indexes = idx_1_25;
	srv.nindexes = 25;
	if (!rpc_connect(rpc, sock_path, &err))
		abort();

	/* 25 items, limit 10: pages of 10, 10, 5. */
	memset(&p, 0, sizeof(p));
	paginate(loop, rpc, 0, 10, NULL, &p);
	CHECK(p.done && p.done_calls == 1 && !p.error, "25 items: done once");
	CHECK_EQ_INT(p.npages, 3, "25 items / 10: three pages");
	CHECK(p.sizes[0] == 10 && p.sizes[1] == 10 && p.sizes[2] == 5,
	      "page sizes %zu %zu %zu", p.sizes[0], p.sizes[1], p.sizes[2]);
	CHECK(p.first[0] == 1 && p.last[0] == 10 && p.first[1] == 11 &&
		      p.last[1] == 20 && p.first[2] == 21 && p.last[2] == 25,
	      "page contents 1-10, 11-20, 21-25");
	CHECK_EQ_INT(p.next_start, 26, "next_start one past the last index");
	{
		static const char *const want[] = {
			"{\"index\":\"created\",\"limit\":10,\"start\":0}",
			"{\"index\":\"created\",\"limit\":10,\"start\":11}",
			"{\"index\":\"created\",\"limit\":10,\"start\":21}"};
		check_requests("25 items", want, 3);
	}
	CHECK_EQ_STR(json_string_value(json_object_get(
			     json_array_get(srv.seen, 0), "id")),
		     "cycle#1/pg:listforwards#1", "page ids chain to the parent");

	/* Exactly 20 items: the third page is empty and ends it. */
	memset(&p, 0, sizeof(p));
	srv.nindexes = 20;
	paginate(loop, rpc, 0, 10, NULL, &p);
	CHECK(p.npages == 3 && p.sizes[2] == 0 && p.next_start == 21 &&
		      !p.error,
	      "20 items / 10: pages %d (last %zu), next_start %" PRIu64,
	      p.npages, p.sizes[2], p.next_start);

	/* Resume from 7 with extra params kept on every page. */
	memset(&p, 0, sizeof(p));
	srv.nindexes = 25;
	paginate(loop, rpc, 7, 8, json_pack("{s:s}", "status", "settled"),
		 &p);
	CHECK(p.npages == 3 && p.first[0] == 7 && p.last[2] == 25 &&
		      p.next_start == 26,
	      "start 7, limit 8: %d pages from %" PRIu64 " to %" PRIu64
	      ", next %" PRIu64,
	      p.npages, p.first[0], p.last[2], p.next_start);
	{
		static const char *const want[] = {
			"{\"index\":\"created\",\"limit\":8,\"start\":7,"
			"\"status\":\"settled\"}",
			"{\"index\":\"created\",\"limit\":8,\"start\":15,"
			"\"status\":\"settled\"}",
			"{\"index\":\"created\",\"limit\":8,\"start\":23,"
			"\"status\":\"settled\"}"};
		check_requests("start 7 with extra params", want, 3);
	}

	/* Gaps in the index: next_start follows the highest seen. */
	{
		static const uint64_t gaps[] = {3, 9, 10, 40, 41, 100};
		memset(&p, 0, sizeof(p));
		srv.indexes = gaps;
		srv.nindexes = 6;
		paginate(loop, rpc, 5, 2, NULL, &p);
		CHECK(p.npages == 3 && p.first[0] == 9 && p.last[1] == 41 &&
			      p.sizes[2] == 1 && p.next_start == 101,
		      "gaps: %d pages, next_start %" PRIu64, p.npages,
		      p.next_start);
		srv.indexes = idx_1_25;
		srv.nindexes = 25;
	}

	/* Nothing at all: one empty page, next_start stays at start. */
	memset(&p, 0, sizeof(p));
	srv.nindexes = 0;
	paginate(loop, rpc, 42, 10, NULL, &p);
	CHECK(p.npages == 1 && p.sizes[0] == 0 && p.next_start == 42 &&
		      !p.error,
	      "no items: next_start stays 42 (%" PRIu64 ")", p.next_start);
	srv.nindexes = 25;

	/* Early stop: the page callback returns false. Page 2 was already
	 * asked for while page 1 was handled; its answer is dropped. */
	memset(&p, 0, sizeof(p));
	p.stop_after = 1;
	paginate(loop, rpc, 0, 10, NULL, &p);
	RUN_UNTIL(loop, rpc_in_flight(rpc) == 0);
	CHECK(p.npages == 1 && p.done_calls == 1 && !p.error &&
		      p.next_start == 11 && json_array_size(srv.seen) == 2,
	      "early stop after page 1: next_start %" PRIu64 ", %zu requests "
	      "(page 2 asked ahead, its answer dropped)",
	      p.next_start, json_array_size(srv.seen));

	/* Asking ahead: page 2 is requested before page 1's callback. */
	memset(&p, 0, sizeof(p));
	p.issued_at_page = 1;
	paginate(loop, rpc, 0, 10, NULL, &p);
	CHECK(p.issued_by_then == 2 && p.npages == 3,
	      "page 2 requested before page 1 is handled (%zu calls by then)",
	      p.issued_by_then);

	/* An error on the second page: done with it, and where to resume. */
	memset(&p, 0, sizeof(p));
	srv.fail_request = 2;
	srv.fail_code = -1;
	srv.fail_message = "lightningd busy";
	paginate(loop, rpc, 0, 10, NULL, &p);
	CHECK(p.npages == 1 && p.error && p.error_code == -1 &&
		      p.error_message &&
		      !strcmp(p.error_message, "lightningd busy") &&
		      p.next_start == 11,
	      "error on page 2: reported, resume at %" PRIu64, p.next_start);
	free(p.error_message);
	srv.fail_request = 0;

	/* -32602 that is not about "index": no fallback. */
	memset(&p, 0, sizeof(p));
	srv.fail_request = 1;
	srv.fail_code = -32602;
	srv.fail_message = "start: should be a u64";
	paginate(loop, rpc, 0, 10, NULL, &p);
	CHECK(p.npages == 0 && p.error && p.error_code == -32602 &&
		      json_array_size(srv.seen) == 1,
	      "-32602 not about index: no fallback (%zu requests)",
	      json_array_size(srv.seen));
	free(p.error_message);
	srv.fail_request = 0;

	/* A reply without the array. */
	memset(&p, 0, sizeof(p));
	srv.omit_array = true;
	paginate(loop, rpc, 0, 10, NULL, &p);
	CHECK(p.npages == 0 && p.error && p.error_message &&
		      strstr(p.error_message, "'forwards'"),
	      "reply without the array: %s",
	      p.error_message ? p.error_message : "-");
	free(p.error_message);
	srv.omit_array = false;

	/* Legacy lightningd: "index" refused, one unpaginated call, items
	 * below start skipped, extra params kept. */
	memset(&p, 0, sizeof(p));
	srv.mode = SRV_LEGACY;
	paginate(loop, rpc, 7, 10, json_pack("{s:s}", "status", "settled"),
		 &p);
	CHECK(p.done && !p.error, "legacy: done without error");
	CHECK(p.npages == 1 && p.sizes[0] == 19 && p.first[0] == 7 &&
		      p.last[0] == 25,
	      "legacy: one page of items 7..25 (%d pages, %zu items, first "
	      "%" PRIu64 ")",
	      p.npages, p.sizes[0], p.first[0]);
	CHECK_EQ_INT(p.next_start, 26, "legacy: next_start");
	{
		static const char *const want[] = {
			"{\"index\":\"created\",\"limit\":10,\"start\":7,"
			"\"status\":\"settled\"}",
			"{\"status\":\"settled\"}"};
		check_requests("legacy fallback", want, 2);
	}

	/* rpc_free while a page is in flight: done runs once, with an
	 * error, and nothing leaks (the sanitizer build checks). */
	memset(&p, 0, sizeof(p));
	srv.mode = SRV_HOLD;
	srv_reset_requests();
	rpc_paginate(rpc, NULL, "listforwards", "forwards", "created", 0, 10,
		     json_object(), page_cb, done_cb, &p);
	RUN_UNTIL(loop, json_array_size(srv.held) == 1);
	CHECK(!p.done, "page request in flight");
	rpc_free(rpc);
	CHECK(p.done_calls == 1 && p.error && p.npages == 0 &&
		      p.next_start == 0,
	      "rpc_free mid-pagination: done once with an error (%s)",
	      p.error_message ? p.error_message : "-");
	free(p.error_message);
	srv_stop();
}

/* ---------- reply deadlines ---------- */

static void test_timeout(struct loop *loop, struct clock *clk)
{
	struct rpc *rpc = rpc_new(loop, "t");
	struct outcome o[3] = {{0}};
	char *err = NULL;
	uint64_t t0 = 1700000000000ULL;

	/* Simulated time moves only when the test moves it. */
	CHECK(clock_set_simulated_ms(clk, t0), "simulated clock");
	srv_start(loop);
	if (!rpc_connect(rpc, sock_path, &err))
		abort();
	rpc_set_timeout(rpc, 5000);
	call(rpc, NULL, "slow", NULL, &o[0]);
	call(rpc, NULL, "fast", NULL, &o[1]);
	RUN_UNTIL(loop, json_array_size(srv.held) == 2);
	srv_reply(json_array_get(srv.held, 1), json_pack("{s:i}", "x", 1));
	RUN_UNTIL(loop, o[1].calls == 1);
	CHECK(o[1].calls == 1 && !o[1].error, "a prompt reply is delivered");

	CHECK(clock_set_simulated_ms(clk, t0 + 4999), "clock +4.999 s");
	(void)loop_run_once(loop, 0);
	CHECK_EQ_INT(o[0].calls, 0, "no timeout before the deadline");
	CHECK(clock_set_simulated_ms(clk, t0 + 5000), "clock +5 s");
	RUN_UNTIL(loop, o[0].calls == 1);
	CHECK(o[0].calls == 1 && o[0].error && o[0].code == 1110,
	      "at the deadline the call fails with ERR_TIMEOUT (code %d)",
	      o[0].code);
	CHECK(o[0].message &&
		  strstr(o[0].message, "no reply from lightningd within 5000 ms"),
	      "message says why: %s", o[0].message ? o[0].message : "-");
	CHECK_EQ_INT(rpc_in_flight(rpc), 0, "nothing left in flight");

	/* The late reply is dropped: the callback ran once only. */
	srv_reply(json_array_get(srv.held, 0), json_pack("{s:i}", "x", 2));
	call(rpc, NULL, "after", NULL, &o[2]);
	RUN_UNTIL(loop, json_array_size(srv.held) == 3);
	srv_reply(json_array_get(srv.held, 2), json_pack("{s:i}", "x", 3));
	RUN_UNTIL(loop, o[2].calls == 1);
	CHECK(o[0].calls == 1 && o[2].calls == 1 && !o[2].error,
	      "a late reply is dropped; the next call works");

	/* 0: wait for ever. */
	outcome_clear(&o[2]);
	rpc_set_timeout(rpc, 0);
	call(rpc, NULL, "patient", NULL, &o[2]);
	RUN_UNTIL(loop, json_array_size(srv.held) == 4);
	CHECK(clock_set_simulated_ms(clk, t0 + 86400000ULL), "clock +1 day");
	(void)loop_run_once(loop, 0);
	CHECK_EQ_INT(o[2].calls, 0, "without a timeout a call waits");
	srv_reply(json_array_get(srv.held, 3), json_pack("{s:i}", "x", 4));
	RUN_UNTIL(loop, o[2].calls == 1);
	CHECK(o[2].calls == 1 && !o[2].error, "and completes when answered");

	/* rpc_free with a deadline armed: the call fails once, no timer
	 * fires later. */
	rpc_set_timeout(rpc, 1000);
	outcome_clear(&o[1]);
	call(rpc, NULL, "pending", NULL, &o[1]);
	RUN_UNTIL(loop, json_array_size(srv.held) == 5);
	rpc_free(rpc);
	CHECK_EQ_INT(o[1].calls, 1, "rpc_free completes the pending call");
	CHECK(clock_set_simulated_ms(clk, t0 + 86400000ULL + 2000),
	      "clock past its deadline");
	(void)loop_run_once(loop, 0);
	CHECK_EQ_INT(o[1].calls, 1, "and its deadline never fires");
	for (int i = 0; i < 3; i++)
		outcome_clear(&o[i]);
	srv_stop();
}

int main(void)
{
	struct clock *clk = clock_new();
	struct loop *loop = loop_new(clk);

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	strcpy(tmpdir, "/tmp/hive-rpc-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/lightning-rpc", tmpdir);

	test_connect_errors(loop);
	test_not_connected(loop);
	test_out_of_order(loop);
	test_chained(loop);
	test_paginate(loop);
	test_timeout(loop, clk); /* last: it makes the clock simulated */

	loop_free(loop);
	clock_free(clk);
	rmdir(tmpdir);
	return check_done();
}
