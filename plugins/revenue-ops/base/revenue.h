/* cl-revenue-ops' shared state: one instance, owned by main(). Modules get
 * it through plugin_app(). The pointers below are each owned by one
 * module, which creates and frees them; no other writes them. */
#ifndef HIVE_REVENUE_OPS_REVENUE_H
#define HIVE_REVENUE_OPS_REVENUE_H
#include "common/rng.h"
#include "plugins/revenue-ops/base/config.h"
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
	struct forwards_sync_state *fwd_sync; /* cycle/forwards_sync.c */
	struct loop_timer *sync_timer;	      /* rpc/notify.c, main.c */
	/* Seeded from the OS (or the simulator's seed): every random draw of
	 * the plugin comes from here, so a simulation replays exactly. */
	struct rng rng;
	/* The state the flow and fee cycles share (cycle/pipeline.h). */
	struct pipeline *pipe;
	/* Lifecycle accounting and the daily snapshots
	 * (cycle/accounting.h, its state in cycle/acct.h). */
	struct accounting *acct;
	/* Transitions of fee_authority_enabled since start, for
	 * revenue-fee-authority-status (rpc/config.c). */
	struct {
		bool enabled;
		uint64_t generation;
		uint64_t transitioned_at;
		const char *reason; /* static: init, setconfig, revenue-config */
	} fee_authority;
};

#endif
