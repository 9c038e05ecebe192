/* The state the files of the fake lightningd share (sim/lightningd.c and
 * the lightningd_*.c beside it), and what each offers the files after it
 * (their order is in sim/lightningd.c). Nothing else includes it
 * (scripts/check-layering): the rest of the simulator sees struct lnd
 * through sim/lightningd.h only. */
#ifndef HIVE_SIM_LIGHTNINGD_INTERNAL_H
#define HIVE_SIM_LIGHTNINGD_INTERNAL_H
#include "sim/lightningd.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct jsonrpc_conn;
struct loop;
struct u64map;

/* Where a plugin is in its life; the order matters (lnd_start_plugins
 * waits until every plugin is past a state). */
enum lplugin_state {
	PL_MANIFEST,	/* getmanifest sent */
	PL_MANIFEST_OK, /* manifest in, init not yet sent */
	PL_INIT,	/* init sent */
	PL_RUNNING,
	PL_DISABLED,	/* answered init with "disable" */
	PL_DEAD,
};

/* An option a plugin declared in its manifest. */
struct lopt {
	char *name;
	char *type; /* "string", "int", "bool", "flag" */
	json_t *def;
	bool multi, dynamic;
	json_t *value; /* current value as lightningd would pass it */
};

/* A plugin process, as lightningd knows it. */
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

/* A connection to lightning-rpc. */
struct client {
	uint64_t id;
	struct lnd *lnd;
	struct jsonrpc_conn *conn;
	struct client *next;
};

/* A request to the node, from a client or from the simulator itself,
 * until it is answered. */
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

/* A request sent to a plugin, until its reply (found by the sequence
 * number that ends its id): passed through to a client's request, or
 * handed to our callback. */
enum pending_kind { PEND_FORWARD, PEND_INTERNAL };

struct pending {
	enum pending_kind kind;
	struct lplugin *pl;
	struct lnd_req *req;	/* PEND_FORWARD: where the answer goes */
	void (*cb)(struct lplugin *pl, const json_t *msg, void *arg);
	void *arg;
};

/* A notification or hook call waiting for lnd_sync. */
struct queued {
	bool is_hook;
	char *name;
	json_t *params;
};

/* A hook call on its way down the plugins that registered it. */
struct hook_call {
	char *hook;
	json_t *params;
	size_t next_plugin; /* index into lnd->plugins to try next */
};

/* The node. */
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

/* ----- lightningd.c: what every part uses ----- */
/* Record @text (taken) as the node's failure report, unless one is
 * already there (the first failure is the one reported); logged as
 * BROKEN either way. */
void lnd_set_failure(struct lnd *lnd, char *text);
/* The node's alias (borrowed), for messages. */
const char *lnd_alias(const struct lnd *lnd);
/* Append one line to <dir>/notifications.jsonl when the node keeps it. */
void lnd_log_notification(struct lnd *lnd, const char *kind,
			  const char *name, const json_t *params);
/* Serve I/O until @done(arg) or @timeout_ms of wall time; false on
 * timeout. */
bool lnd_serve_until(struct lnd *lnd, bool (*done)(void *), void *arg,
		     int timeout_ms);
/* Free a request that will not be answered. */
void lnd_req_free(struct lnd_req *req);
/* Answer @req with the whole message @msg (stolen): to its client, or to
 * its internal callback. Frees @req. */
void lnd_req_send(struct lnd_req *req, json_t *msg);

/* ----- lightningd_plugins.c: plugin processes ----- */
/* Start the binary @path with its stdin/stdout as the plugin's channel
 * (state PL_MANIFEST: the caller sends getmanifest and adds it to
 * lnd->plugins); NULL with *err if it cannot run. */
struct lplugin *lplugin_spawn(struct lnd *lnd, const char *path,
			      char **err);
/* Free @pl and what it holds (its process must be gone). */
void lplugin_destroy(struct lplugin *pl);
/* Send request @method (params stolen) to @pl; @cb gets the whole reply
 * message, or NULL if the plugin dies first. With @fwd the reply goes
 * to that request instead (a client's call of a plugin's method), under
 * an id that starts with @idprefix. */
void lplugin_request(struct lplugin *pl, const char *idprefix,
		     const char *method, json_t *params,
		     void (*cb)(struct lplugin *, const json_t *, void *),
		     void *arg, struct lnd_req *fwd);
/* Send notification @method (params stolen) to @pl. */
void lplugin_notify(struct lplugin *pl, const char *method, json_t *params);
/* Whether @pl subscribed to @topic (or to everything). */
bool lplugin_subscribed(const struct lplugin *pl, const char *topic);
/* @pl is gone (exit, crash, protocol violation: @why): reap it, report
 * it unless it was stopping or disabled, fail what waits on it and
 * answer a `plugin stop` that waits for it. Idempotent. */
void lplugin_dead(struct lplugin *pl, const char *why);
/* The last 2 kB of @pl's stderr (caller frees). */
char *lplugin_stderr_tail(const struct lplugin *pl);

/* ----- lightningd_rpc.c: clients and the method table ----- */
/* The listening socket's callback: a new lightning-rpc client. */
void lnd_rpc_accept(struct loop *loop, int fd, short rev, void *arg);
/* Close a client's connection and free it. */
void lnd_client_close(struct client *c);

#endif
