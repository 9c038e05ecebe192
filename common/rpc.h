/* Client for lightningd's JSON-RPC socket (`lightning-rpc`).
 *
 * Any number of requests may be in flight; each completes through its
 * callback exactly once (with an error reply if the connection is lost or
 * the client is freed first). Request ids follow Core Lightning's
 * convention "<parent id>/<plugin>:<method>#<n>", so lightningd's logs chain
 * each call to the command or cycle that caused it. */
#ifndef HIVE_COMMON_RPC_H
#define HIVE_COMMON_RPC_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct rpc;

struct rpc_reply {
	const char *method;
	/* Exactly one of result/error is non-NULL; both borrowed for the
	 * duration of the callback. */
	const json_t *result;
	const json_t *error;
	int error_code;		   /* valid when error != NULL */
	const char *error_message; /* never NULL when error != NULL */
};

typedef void (*rpc_cb)(struct rpc *rpc, const struct rpc_reply *reply,
		       void *arg);

/* @name prefixes request ids (the plugin's name). */
struct rpc *rpc_new(struct loop *loop, const char *name);
/* Connect to @path. On failure returns false with *err set (caller frees).
 * May be called again after the connection drops. */
bool rpc_connect(struct rpc *rpc, const char *path, char **err)
	__attribute__((warn_unused_result));
bool rpc_connected(const struct rpc *rpc);
/* From now on, a call lightningd has not answered within @timeout_ms
 * completes with error ERR_TIMEOUT ("no reply from lightningd within N
 * ms") and its reply, if it comes later, is dropped; 0 (the default)
 * waits for ever. A timed-out call may still have taken effect. */
void rpc_set_timeout(struct rpc *rpc, uint64_t timeout_ms);
/* Completes every pending call with an error, then frees. */
void rpc_free(struct rpc *rpc);

/* Call @method with @params (reference stolen; NULL means {}). @parent_id
 * is the id of the command that caused this call, or NULL. If not connected
 * the callback still runs, from the loop, with an error. */
void rpc_call(struct rpc *rpc, const char *parent_id, const char *method,
	      json_t *params, rpc_cb cb, void *arg);
/* The same with a result filter (lightningd v23.02+): only the members
 * @filter marks true (or describes, for nested objects and arrays) come
 * back, which makes large answers (listpeerchannels on a big node) much
 * cheaper to produce and parse. @filter is borrowed. */
void rpc_call_filtered(struct rpc *rpc, const char *parent_id,
		       const char *method, json_t *params,
		       const json_t *filter, rpc_cb cb, void *arg);
size_t rpc_in_flight(const struct rpc *rpc);
/* Total calls ever issued (for tests and metrics). */
uint64_t rpc_calls_issued(const struct rpc *rpc);

/* "<method>: <message> (code N)" for an error reply; caller frees. */
char *rpc_reply_errtext(const struct rpc_reply *r);

/* Pagination over `<method> index=<index> start=<n> limit=<limit>` (the
 * listforwards / listinvoices / listsendpays family, v23.11+).
 *
 * @page is called once per page with the borrowed @array_key array; return
 * false to stop early. The next page is already requested while @page
 * handles a full one (its answer is dropped if @page stops). @done is
 * called once at the end with NULL on success
 * (or the failing reply) and the next start index to resume from (one past
 * the highest `<index>_index` seen, or @start if none).
 *
 * Older lightningd without `index` support: one unpaginated call is made
 * instead and items below @start (when they carry an index) are skipped. */
typedef bool (*rpc_page_cb)(struct rpc *rpc, const json_t *items, void *arg);
typedef void (*rpc_pages_done_cb)(struct rpc *rpc,
				  const struct rpc_reply *error,
				  uint64_t next_start, void *arg);
void rpc_paginate(struct rpc *rpc, const char *parent_id, const char *method,
		  const char *array_key, const char *index, uint64_t start,
		  uint32_t limit, json_t *extra_params, rpc_page_cb page,
		  rpc_pages_done_cb done, void *arg);

#endif
