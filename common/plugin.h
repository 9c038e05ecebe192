/* The Core Lightning plugin protocol, driven by static tables.
 *
 * A plugin describes itself in a struct plugin_spec (options, methods,
 * subscriptions, hooks, custom notifications and messages) and calls
 * plugin_main(). The runtime answers getmanifest from the tables, parses and
 * range-checks option values at init, chdirs to the lightning-dir, connects
 * the lightning-rpc client, validates and applies setconfig, dispatches
 * methods (params as an array or an object), answers every hook, unwraps
 * notifications, and exits cleanly on the shutdown notification or stdin
 * EOF. stdout carries JSON-RPC only; diagnostics go to lightningd's log
 * through "log" notifications.
 *
 * Under the simulator (environment HIVE_SIM_CLOCK set) the clock is
 * simulated and the runtime also answers "hive-sim-tick": it moves the
 * clock, runs what became due, and replies once the plugin is idle (no
 * timer due, no RPC call in flight). lightningd never sends that method and
 * without the variable it does not exist. */
#ifndef HIVE_COMMON_PLUGIN_H
#define HIVE_COMMON_PLUGIN_H
#include "common/util.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct command;
struct loop;
struct plugin;
struct rpc;

enum plugin_opt_type {
	POPT_STRING,
	POPT_INT,
	POPT_BOOL,
	POPT_FLAG,
	/* Declared to lightningd as "string" (it has no float type) and
	 * parsed by us as a finite number. */
	POPT_DOUBLE,
	POPT_STRING_MULTI,
	POPT_INT_MULTI,
};

struct plugin_option {
	const char *name;
	enum plugin_opt_type type;
	/* Default as text ("30", "true", "0.05"); NULL for none. */
	const char *def;
	const char *description;
	bool dynamic;
	/* For POPT_INT / POPT_DOUBLE: inclusive bounds when has_range. */
	bool has_range;
	double min, max;
	/* For POPT_STRING: NULL-terminated list of allowed values. */
	const char *const *choices;
};

struct plugin_method {
	const char *name;
	/* Must finish @cmd exactly once (now or later) with command_ok or
	 * command_fail. @params is an array or an object, borrowed. */
	void (*handler)(struct command *cmd, const json_t *params);
	const char *usage;
	const char *description;
};

struct plugin_subscription {
	const char *topic;
	/* @payload is the notification's own object: the runtime unwraps
	 * {"<topic>": {...}} (v23.08+) and passes older flat shapes as they
	 * are. Borrowed for the call. */
	void (*handler)(struct plugin *p, const json_t *payload);
};

struct plugin_hook {
	const char *name;
	/* Called with the hook's params (borrowed). The runtime answers
	 * {"result":"continue"} as soon as this returns, whatever it does,
	 * so lightningd is never held up; slow work must be started
	 * asynchronously. May be NULL (answer only). */
	void (*handler)(struct plugin *p, const json_t *params);
	const char *const *before; /* NULL-terminated plugin names, or NULL */
	const char *const *after;
	const int *filters; /* message types for custommsg (v25.12+) */
	size_t num_filters;
};

struct plugin_spec {
	const char *name; /* used in logs and RPC ids, e.g. "cl-hive" */
	const struct plugin_option *options;
	size_t num_options;
	const struct plugin_method *methods;
	size_t num_methods;
	const struct plugin_subscription *subscriptions;
	size_t num_subscriptions;
	const struct plugin_hook *hooks;
	size_t num_hooks;
	const char *const *notification_topics; /* we may emit these */
	size_t num_notification_topics;
	const int *custommessages;
	size_t num_custommessages;
	bool dynamic; /* may be started/stopped at runtime */
	/* Declare int, bool and number options to lightningd as strings
	 * (the runtime still parses and range-checks them at init). A
	 * malformed value in an operator's config then disables this plugin
	 * with a clear reason, instead of stopping lightningd from starting;
	 * the reference plugins declared their options this way too. */
	bool lenient_option_types;

	/* After options are parsed and lightning-rpc is connected, with the
	 * init "configuration" object (borrowed). Return NULL to run, or a
	 * reason (caller-allocated, runtime frees) to disable the plugin. */
	char *(*init)(struct plugin *p, const json_t *configuration);
	/* A dynamic option changed (already validated and stored). Return
	 * NULL to accept or an error (runtime frees) to roll it back. */
	char *(*on_setconfig)(struct plugin *p, const char *name);
	/* Work the plugin still has under way that is not an RPC call or a
	 * due timer (the simulator waits for it). May be NULL. */
	bool (*busy)(struct plugin *p);
	/* Before exit (shutdown notification, stdin EOF): close storage,
	 * free app state. Called once, also when init never ran. */
	void (*shutdown)(struct plugin *p);
};

/* Run the plugin until shutdown. @app is returned by plugin_app().
 * Returns the process exit status. */
int plugin_main(const struct plugin_spec *spec, int argc, char **argv,
		void *app);

void *plugin_app(const struct plugin *p);
struct loop *plugin_loop(const struct plugin *p);
struct rpc *plugin_rpc(const struct plugin *p);
struct clock *plugin_clock(const struct plugin *p);
const char *plugin_name(const struct plugin *p);
/* Seed for the plugin's PRNG: from the OS, or HIVE_SIM_SEED under the
 * simulator (mixed with the plugin name so plugins differ). */
uint64_t plugin_seed(const struct plugin *p);
/* True when init said the plugin was started with lightningd. */
bool plugin_started_at_boot(const struct plugin *p);

/* Option values (after init). Asking for an undeclared name, or with the
 * wrong type, is a programming error and aborts. Strings are borrowed. */
const char *plugin_opt_str(const struct plugin *p, const char *name);
int64_t plugin_opt_int(const struct plugin *p, const char *name);
bool plugin_opt_bool(const struct plugin *p, const char *name);
double plugin_opt_double(const struct plugin *p, const char *name);
size_t plugin_opt_multi(const struct plugin *p, const char *name,
			const char *const **vals);
/* Was the option given explicitly (config or command line)? */
bool plugin_opt_is_set(const struct plugin *p, const char *name);
/* Current value of any option as JSON (new reference). */
json_t *plugin_opt_json(const struct plugin *p, const char *name);

enum plugin_log_level { PLOG_DEBUG, PLOG_INFO, PLOG_WARN, PLOG_ERROR };
void plugin_log(struct plugin *p, enum plugin_log_level level,
		const char *fmt, ...) PRINTF_FMT(3, 4);
/* Emit a custom notification declared in notification_topics
 * (payload reference stolen). */
void plugin_notify(struct plugin *p, const char *topic, json_t *payload);

/* --- commands --- */
struct plugin *command_plugin(const struct command *cmd);
/* The request id as text, to chain RPC calls made for this command. */
const char *command_id(const struct command *cmd);
const char *command_method(const struct command *cmd);
/* Finish with a result (reference stolen). Frees @cmd. */
void command_ok(struct command *cmd, json_t *result);
/* Finish with a JSON-RPC error; @data (stolen) may be NULL. Frees @cmd. */
void command_fail(struct command *cmd, int code, json_t *data,
		  const char *fmt, ...) PRINTF_FMT(4, 5);

/* --- parameters --- */
enum param_type {
	PARAM_STRING,	/* const char ** (borrowed from params) */
	PARAM_INT,	/* int64_t * */
	PARAM_UINT,	/* uint64_t * */
	PARAM_BOOL,	/* bool * */
	PARAM_DOUBLE,	/* double * */
	PARAM_MSAT,	/* uint64_t *: integer or "<n>msat" */
	PARAM_SCID,	/* const char **: a valid short_channel_id */
	PARAM_PUBKEY,	/* const char **: 66 hex chars */
	PARAM_JSON,	/* const json_t ** (borrowed) */
};

struct param {
	const char *name;
	enum param_type type;
	bool required;
	void *out;	/* left untouched when an optional param is absent */
	bool *present;	/* optional: set true when given */
};

/* Parse @params (array or object) against @specs, terminated by an entry
 * with name NULL. Numbers given as strings are accepted (lightning-cli
 * passes some arguments that way). On any problem (missing required,
 * unknown name, too many positional, wrong type) @cmd is failed with
 * ERR_INVALID_PARAMS naming the parameter, and false is returned: the
 * caller must then just return. */
bool command_params(struct command *cmd, const json_t *params,
		    const struct param *specs) WARN_UNUSED;

/* --- exposed for tests --- */
/* Build the getmanifest result for @spec (new reference). */
json_t *plugin_manifest_json(const struct plugin_spec *spec);
/* Parse one option value (JSON as lightningd sends it in init or
 * setconfig) against its declaration. Returns NULL on success with *out a
 * canonical JSON value (new reference), or an error (caller frees). */
char *plugin_option_parse(const struct plugin_option *opt, const json_t *val,
			  json_t **out);

#endif
