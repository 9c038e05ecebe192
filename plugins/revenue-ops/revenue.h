/* cl-revenue-ops' shared state: one instance, owned by main(). Modules get
 * it through plugin_app(). */
#ifndef HIVE_REVENUE_OPS_REVENUE_H
#define HIVE_REVENUE_OPS_REVENUE_H
#include "common/rng.h"
#include "plugins/revenue-ops/config.h"
#include <stdbool.h>
#include <stdint.h>

struct accounting;
struct forwards_sync_state;
struct loop_timer;
struct pipeline;
struct plugin;
struct store;

#define REVENUE_OPS_VERSION "0.1.0"

struct revenue {
	struct plugin *plugin;
	struct store *db;
	char *db_path;
	struct ro_config cfg;
	bool cfg_ready;
	uint64_t started_at;
	struct forwards_sync_state *fwd_sync;
	struct loop_timer *sync_timer;
	/* Seeded from the OS (or the simulator's seed): every random draw of
	 * the plugin comes from here, so a simulation replays exactly. */
	struct rng rng;
	/* Flow and fee cycles, policies (pipeline.h). */
	struct pipeline *pipe;
	/* Lifecycle accounting and the daily snapshots (accounting.h). */
	struct accounting *acct;
	/* Transitions of fee_authority_enabled since start, for
	 * revenue-fee-authority-status (config_rpc.c). */
	struct {
		bool enabled;
		uint64_t generation;
		uint64_t transitioned_at;
		const char *reason; /* static: init, setconfig, revenue-config */
	} fee_authority;
};

void forwards_state_free(struct revenue *r);

/* Make lightningd calls give up after rpc_timeout_seconds
 * (config_rpc.c). */
void revenue_apply_rpc_timeout(struct revenue *r);

/* Open (and migrate) the database. NULL with *err on failure. */
struct store *revenue_db_open(const char *path, char **err);

#endif
