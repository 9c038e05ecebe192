/* The state the files of the plugin runtime share (common/plugin.c and
 * the plugin_*.c beside it), and what each offers the files after it
 * (their order is in common/plugin.c). Nothing else includes it
 * (scripts/check-layering): a plugin sees struct plugin and struct
 * command through common/plugin.h only. */
#ifndef HIVE_COMMON_PLUGIN_INTERNAL_H
#define HIVE_COMMON_PLUGIN_INTERNAL_H
#include "common/plugin.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct clock;
struct jsonrpc_conn;
struct loop;
struct rpc;

/* An option's current value, by its index in spec->options. */
struct optval {
	json_t *val;	  /* canonical current value, or NULL (unset, no default) */
	bool set;	  /* given explicitly */
	const char **multi; /* cached string view of a multi option */
	size_t nmulti;
};

/* Where the runtime is: waiting for init, running, or disabled by its
 * init (it then only waits for lightningd to stop it). */
enum plugin_state { ST_MANIFEST, ST_RUNNING, ST_DISABLED };

/* The running plugin: its tables, its app, and the runtime's state. */
struct plugin {
	const struct plugin_spec *spec;
	void *app;
	struct clock *clk;
	struct loop *loop;
	struct rpc *rpc;
	struct jsonrpc_conn *io; /* stdin/stdout */
	struct optval *opts;
	enum plugin_state state;
	bool booted;
	bool sim_clock;
	uint64_t seed;
	json_t *tick_id; /* a hive-sim-tick waiting for idle */
	/* The instant that tick moves the clock to, held while calls to
	 * lightningd are in flight (0: applied). */
	uint64_t tick_to_ms;
	bool shutting_down;
	bool shutdown_called;
	int exit_code;
};

/* A request from lightningd being answered (command_ok, command_fail). */
struct command {
	struct plugin *plugin;
	json_t *id;
	char *id_text;
	char *method;
};

/* ----- plugin.c: what every part uses ----- */
/* Answer request @id (borrowed) with @result (stolen). */
void plugin_reply(struct plugin *p, json_t *id, json_t *result);
/* Answer request @id (borrowed) with a JSON-RPC error; @data (stolen) may
 * be NULL. */
void plugin_reply_error(struct plugin *p, json_t *id, int code,
			json_t *data, const char *msg);
/* A command for request @id (borrowed) of @method, to be finished with
 * command_ok or command_fail. */
struct command *command_new(struct plugin *p, json_t *id,
			    const char *method);
/* Start shutting down (stdout closed, shutdown notification, stdin EOF):
 * the loop ends and plugin_main finishes. Idempotent. */
void plugin_begin_shutdown(struct plugin *p, const char *why);

/* ----- plugin_options.c ----- */
/* The index of option @name in spec->options, or -1. */
ssize_t plugin_opt_index(const struct plugin *p, const char *name);
/* Make @val (stolen, canonical; NULL: no value) option @i's value; @set:
 * given explicitly rather than by default. */
void plugin_opt_store(struct plugin *p, size_t i, json_t *val, bool set);
/* Give every option its default: its declared one, false for a flag, []
 * for a multi, else none. NULL, or an error (caller frees) if a declared
 * default does not parse: a bug in the plugin's table. */
char *plugin_opt_load_defaults(struct plugin *p);
/* Take the option values of init's "options" object (borrowed); names
 * that are not ours are ignored. NULL, or the first error (caller
 * frees). */
char *plugin_opt_apply_init(struct plugin *p, const json_t *options);

#endif
