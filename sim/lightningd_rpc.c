/* The fake lightningd's lightning-rpc socket and its method table: a
 * client's request goes to an injected fault, a built-in method
 * (lnd_method_tables, sim/methods*.c) or the running plugin that
 * registered the name, and every answer goes back through the request
 * (lnd_req_ok, lnd_req_fail), filtered as lightningd filters it. */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/jsonrpc_io.h"
#include "common/util.h"
#include "sim/lightningd.h"
#include "sim/lightningd_internal.h"
#include <string.h>
#include <sys/socket.h>

/* ---------- the method table ---------- */

const struct lnd_method *lnd_find_method(const char *name)
{
	for (size_t t = 0; t < lnd_num_method_tables; t++)
		for (size_t i = 0; i < *lnd_method_tables[t].n; i++)
			if (!strcmp(lnd_method_tables[t].methods[i].name, name))
				return &lnd_method_tables[t].methods[i];
	return NULL;
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
	lplugin_request(pl, idtext, req->method,
			params ? json_deep_copy(params) : json_object(), NULL,
			NULL, req);
	free(idtext);
}

/* ---------- clients ---------- */

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

void lnd_client_close(struct client *c)
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
	lnd_client_close(arg);
	(void)conn;
	(void)err;
}

static const struct jsonrpc_conn_ops client_ops = {
	.on_message = on_client_message,
	.on_bad = on_client_bad,
	.on_close = on_client_close,
};

void lnd_rpc_accept(struct loop *loop, int fd, short rev, void *arg)
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
