/* The state the decision cycles share, in one struct pipeline hanging
 * off struct revenue; this file is its only owner. Who writes what:
 *   flow cycle (flow.c)     temporal profiles, snapshot_done, runs done
 *   fee cycle (fee.c)       the last decision per channel, the summary
 *   CLBOSS calls (clboss.c) whether CLBOSS runs
 *   publication (publish.c) when the reports were last published
 *   the RPCs (rpc/)         the rate limiters of policy writes and forced
 *                           commands
 * and everyone may wait for the end of a flow or fee run.
 *
 * Ownership: pipeline_init() allocates r->pipe, pipeline_free() stops the
 * cycles and releases it (accepts a revenue whose pipeline never
 * started). */
#ifndef HIVE_REVENUE_OPS_PIPELINE_H
#define HIVE_REVENUE_OPS_PIPELINE_H
#include "engine/fee_ctl.h"
#include "plugins/revenue-ops/base/ratelimit.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cycle;
struct revenue;
struct u64map;

/* What the last fee cycle did with one channel (kept in memory for
 * revenue-fee-debug and revenue-status). */
struct fee_last {
	uint64_t time_sec;
	char scid[24];
	char peer_id[67];
	enum fee_ctl_action action;
	enum fee_ctl_class cls;
	enum fee_ctl_step_id decided_by;
	const char *reason;	 /* static */
	const char *skip_reason; /* static or NULL */
	const char *outcome;	 /* static: applied, dry_run, no_authority,
				  * paused, setchannel_failed, adopted,
				  * no_change, error */
	int64_t old_fee_ppm, new_fee_ppm;
	int64_t floor_ppm, ceiling_ppm;
	double time_intensity; /* the THOMPSON step's (-1: unknown); NaN:
				* the step was not reached */
	char error[160];
};

/* The last fee cycle as a whole. */
struct fee_cycle_summary {
	uint64_t time_sec; /* 0: none yet */
	unsigned evaluated, changed, adopted, failed, held, unchanged, errors;
	unsigned would_change;	   /* decisions not sent (dry run, no authority,
				    * paused) */
	const char *safety_block;  /* NULL, "dry_run", "fee_authority_disabled",
				    * "paused" */
	const char *dominant_step; /* step that decided most channels */
	const char *dominant_reason;
	const char *action; /* "set", "no_change", "adopt_external" */
};

typedef void (*pipeline_done_fn)(struct revenue *r, void *arg);

struct pipeline_waiter {
	pipeline_done_fn fn;
	void *arg;
};

struct pipeline {
	struct cycle *flow, *fee;
	/* Waiters for the end of the current (or next) run of each cycle. */
	struct pipeline_waiter *flow_waiters, *fee_waiters;
	size_t n_flow_waiters, n_fee_waiters;
	size_t cap_flow_waiters, cap_fee_waiters;
	/* scid (as u64) -> struct fee_last *. */
	struct u64map *last;
	struct fee_cycle_summary summary;
	struct ratelimit policy_rl;  /* policy writes per peer */
	struct ratelimit command_rl; /* forced manual commands */
	/* CLBOSS: -1 unknown, 0 absent, 1 present; re-checked after
	 * clboss_checked_sec + 300 when absent. */
	int clboss_present;
	uint64_t clboss_checked_sec;
	bool snapshot_done; /* startup "seen connected" baseline taken */
	unsigned flow_runs_done;
	/* Temporal profiles of the UTC day temporal_day (they change only
	 * when a day completes): scid (as u64) -> struct temporal_profile *
	 * (flow.c). NULL until the first flow run. */
	struct u64map *temporal;
	uint64_t temporal_day;
	/* Datastore publishing (publish.h): when the dashboard and the
	 * profitability summary were last pushed; a failure already logged
	 * at warn. */
	uint64_t reports_published_at;
	bool publish_warned;
};

/* Create the pipeline state (flow_cycle_start and fee_cycle_start then
 * start the cycles). */
void pipeline_init(struct revenue *r);
/* Stop the cycles and free everything (accepts r->pipe == NULL). */
void pipeline_free(struct revenue *r);

/* Run the flow cycle now (or join the run in progress) and call @fn when
 * it has finished. */
void pipeline_run_flow(struct revenue *r, pipeline_done_fn fn, void *arg);
/* Same for the fee cycle. */
void pipeline_run_fee(struct revenue *r, pipeline_done_fn fn, void *arg);
/* Called by the cycles when a run ends: completes the waiters. */
void pipeline_flow_finished(struct revenue *r);
void pipeline_fee_finished(struct revenue *r);

/* The last cycle's record for @scid, or NULL. */
const struct fee_last *pipeline_fee_last(const struct revenue *r,
					 const char *scid);
/* Replace the record for @l->scid (copied). */
void pipeline_set_fee_last(struct revenue *r, const struct fee_last *l);

/* The last fee cycle's decision summary, as revenue-fee-debug's
 * last_cycle_decision and the datastore's revenue/status show it: {time,
 * action, dominant_input, reason, safety_block, evaluated, changed,
 * adopted, failed, not_sent} (new reference). */
json_t *fee_cycle_summary_json(const struct fee_cycle_summary *s);
/* The summary with every count, as revenue-status and revenue-cycle show
 * it (new reference). */
json_t *fee_cycle_counts_json(const struct fee_cycle_summary *s);

#endif
