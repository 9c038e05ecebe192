/* A fake lightningd for one simulated fleet node.
 *
 * It serves <dir>/lightning-rpc (and writes <dir>/config so the real
 * `lightning-cli --lightning-dir=<dir>` finds it), starts plugin binaries
 * with the real handshake (getmanifest, then init with typed options and
 * the configuration object), routes plugin-registered methods to the
 * plugin that registered them (so one plugin can call another, as in a
 * real node), delivers notifications and chained hooks, and answers the
 * built-in methods from the simulated network (sim/methods*.c, with the
 * payloads of sim/notify.c).
 *
 * Determinism: under simulated time nothing reaches a plugin except at
 * lnd_sync(), which hands over queued notifications and hooks and then
 * moves each plugin's clock with "hive-sim-tick", one plugin at a time,
 * waiting until that plugin is idle. */
#ifndef HIVE_SIM_LIGHTNINGD_H
#define HIVE_SIM_LIGHTNINGD_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct net;
struct lnd;
struct lnd_req;
struct payments;

/* What the simulation provides to methods that act beyond one node. Any
 * member may be NULL (the method then fails with a clear error). */
struct sim_hooks {
	/* Seconds until a channel_update from @node reaches senders. */
	uint64_t (*gossip_delay_sec)(void *arg, uint32_t node);
	/* Deliver custom message @hex (type + payload) from node @from to
	 * the node with id @peer_id. False with *err if it cannot. */
	bool (*sendcustommsg)(void *arg, uint32_t from, const char *peer_id,
			      const char *hex, char **err);
	/* The payment engine (getroute, sendpay). */
	struct payments *(*payments)(void *arg);
	/* The fake lightningd of node @node, or NULL for external nodes
	 * (to tell a fleet peer about an invoice paid, a channel opened or
	 * closed, a connection). */
	struct lnd *(*node_lnd)(void *arg, uint32_t node);
	/* dev-sim-advance: run the simulation @seconds forward; the hook
	 * owns @req and answers it once done. */
	void (*advance)(void *arg, struct lnd_req *req, uint64_t seconds);
};

struct lnd_config {
	struct loop *loop;
	struct net *net;
	uint32_t node_idx;
	const char *dir;	/* created if missing */
	bool sim_clock;		/* plugins run on simulated time */
	uint64_t seed;
	/* Callbacks into the simulation for methods that act on the
	 * network (payments, channel opens): may be NULL. */
	const struct sim_hooks *hooks;
	void *hooks_arg;
	/* Milliseconds a plugin may take to answer a tick or handshake
	 * before it is reported as hung. */
	int plugin_timeout_ms;
	/* stderr lines and log notifications are appended here. */
	bool echo_logs;		/* also print plugin logs to our stderr */
	/* Append every notification and hook call this node makes to
	 * <dir>/notifications.jsonl, one {"kind", "topic", "payload"} per
	 * line, whether or not a plugin subscribed (schema tests). */
	bool notify_log;
};

struct lnd *lnd_new(const struct lnd_config *cfg, char **err);
/* Stop plugins as lightningd does at shutdown (shutdown notification,
 * then SIGKILL after a grace period); a plugin that crashed or exited
 * non-zero leaves a report in lnd_plugin_failure(). Idempotent. */
void lnd_stop_plugins(struct lnd *lnd);
/* Stops plugins if still running, closes the socket, frees. Accepts
 * NULL. */
void lnd_free(struct lnd *lnd);

const char *lnd_dir(const struct lnd *lnd);
uint32_t lnd_node_idx(const struct lnd *lnd);
struct net *lnd_net(const struct lnd *lnd);
struct loop *lnd_loop(const struct lnd *lnd);

/* Start plugin binaries (paths) with @options (object name -> value, any
 * option not declared by a plugin is skipped for it), run the handshake
 * and wait for every init. Returns false with *err naming the plugin and
 * quoting its stderr if one crashes, hangs or answers garbage. A plugin
 * that disables itself is not an error: it is logged and not running. */
bool lnd_start_plugins(struct lnd *lnd, const char *const *paths, size_t n,
		       const json_t *options, char **err)
	__attribute__((warn_unused_result));

/* Queue a built-in notification (payload stolen, unwrapped object): it is
 * wrapped as {"<topic>": payload} and delivered at the next lnd_sync, or
 * at once when not under simulated time. */
void lnd_notify(struct lnd *lnd, const char *topic, json_t *payload);
/* Queue a chained hook call (params stolen). */
void lnd_hook(struct lnd *lnd, const char *hook, json_t *params);

/* Deliver what is queued and tick every plugin to @now_ms, waiting for
 * each to be idle. False with *err if a plugin died or hung. */
bool lnd_sync(struct lnd *lnd, uint64_t now_ms, char **err)
	__attribute__((warn_unused_result));
/* Earliest timer deadline any plugin reported (UINT64_MAX if none). */
uint64_t lnd_next_deadline_ms(const struct lnd *lnd);

/* Names of running plugins (for reports); and a problem report (crash or
 * hang with stderr tail) if any plugin failed, else NULL. */
size_t lnd_num_plugins(const struct lnd *lnd);
const char *lnd_plugin_failure(const struct lnd *lnd);

/* Per-node state kept by the methods files, one slot each: sim/notify.c's
 * held `wait` requests, sim/methods_datastore.c's datastore. The slot owns
 * @ext from then on; @destroy runs at lnd_free before clients are closed
 * (slots in order), so it may still answer held requests. Setting a slot
 * again does not destroy what it held. */
enum lnd_ext_slot {
	LND_EXT_WAIT,
	LND_EXT_DATASTORE,
	LND_EXT_SLOTS
};
void lnd_set_ext(struct lnd *lnd, enum lnd_ext_slot slot, void *ext,
		 void (*destroy)(void *ext));
/* What the slot holds (borrowed), or NULL. */
void *lnd_ext(const struct lnd *lnd, enum lnd_ext_slot slot);

/* Make the next @count calls of @method (builtin or plugin) fail with
 * @code and @message, as lightningd refusing it would; with @hang, never
 * answer them instead, as a wedged lightningd would. Count 0 clears the
 * fault and fails the calls a hang holds with @code and @message. For
 * tests of how plugins handle errors; reached through the dev-sim-fail
 * method. */
void lnd_inject_fault(struct lnd *lnd, const char *method, int64_t count,
		      int code, const char *message, bool hang);

/* Count of setchannel calls that changed a value. */
uint64_t lnd_fee_updates(const struct lnd *lnd);

/* ----- for sim/methods.c ----- */
struct lnd *lnd_req_node(const struct lnd_req *req);
const char *lnd_req_method(const struct lnd_req *req);
/* The request's result filter (lightningd's "filter"), or NULL; borrowed.
 * lnd_req_ok applies it to every result; a method with a large answer
 * reads it to build only what the filter keeps. */
const json_t *lnd_req_filter(const struct lnd_req *req);
/* Finish a request (result stolen). Frees @req. */
void lnd_req_ok(struct lnd_req *req, json_t *result);
/* The same for a result the method built already filtered (see
 * lnd_req_filter): sent as it is, not filtered again. */
void lnd_req_ok_filtered(struct lnd_req *req, json_t *result);
/* lightningd's result filter @filter applied to @v (new reference). */
json_t *lnd_filter(json_t *v, const json_t *filter);
void lnd_req_fail(struct lnd_req *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fail with an error "data" object (stolen), as sendpay's failures carry
 * the payment and the routing failure. Frees @req. */
void lnd_req_fail_data(struct lnd_req *req, int code, const char *message,
		       json_t *data);
/* The methods table and plugin-management entry points methods.c uses. */
json_t *lnd_plugin_list_json(const struct lnd *lnd);
json_t *lnd_help_json(const struct lnd *lnd, const char *only);
void lnd_plugin_start_req(struct lnd_req *req, const char *path,
			  const json_t *options);
void lnd_plugin_stop_req(struct lnd_req *req, const char *name);
void lnd_setconfig_req(struct lnd_req *req, const char *name,
		       const json_t *val);
void lnd_log(struct lnd *lnd, const char *level, const char *source,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void lnd_count_fee_update(struct lnd *lnd);
const struct sim_hooks *lnd_sim_hooks(const struct lnd *lnd, void **arg);

struct lnd_method {
	const char *name;
	void (*fn)(struct lnd_req *req, const json_t *params);
	const char *usage;
	const char *description;
};
/* Built-in methods come in tables (sim/methods*.c, one per area),
 * searched in order. */
struct lnd_method_table {
	const struct lnd_method *methods;
	const size_t *n; /* defined beside the table, in its own file */
};
extern const struct lnd_method_table lnd_method_tables[];
extern const size_t lnd_num_method_tables;
/* The built-in method called @name, or NULL. */
const struct lnd_method *lnd_find_method(const char *name);

#endif
