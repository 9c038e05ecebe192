/* One simulation: the network built from a scenario, and a fake lightningd
 * (with its plugins) for every fleet node. Shared by `serve` and `run`. */
#ifndef HIVE_SIM_SIM_H
#define HIVE_SIM_SIM_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct net;
struct lnd;
struct scenario;

struct sim_opts {
	const char *dir;	/* node directories go in DIR/<alias> */
	const char *plugin_dir; /* where plugin names are looked up */
	bool sim_clock;		/* plugins on simulated time */
	bool baseline;		/* start no plugins at all */
	const char *const *disabled; /* plugin names not to start */
	size_t ndisabled;
	json_t *plugin_opts;	/* name -> value for every fleet plugin */
	bool echo_logs;
	int plugin_timeout_ms;
	uint64_t seed;		/* overrides the scenario's when non-zero */
};

struct sim {
	struct loop *loop;
	struct clock *clk;
	struct net *net;
	const struct scenario *sc;
	struct sim_opts opts;
	struct lnd **lnds;	/* one per node; NULL for external nodes */
	size_t nlnds;
};

/* Build the network (no processes yet). NULL with *err on failure. */
struct sim *sim_new(const struct scenario *sc, const struct sim_opts *opts,
		    char **err);
/* Start a fake lightningd and its plugins for each fleet node. */
bool sim_start(struct sim *sim, char **err) __attribute__((warn_unused_result));
/* Stop every plugin and free everything. Returns a failure report (a
 * plugin that crashed or exited non-zero) for the caller to free, or
 * NULL. */
char *sim_free(struct sim *sim);

/* Resolve a plugin name to a path (plugin_dir/<name> unless it has a
 * '/'). Caller frees. */
char *sim_plugin_path(const struct sim *sim, const char *name);

#endif
