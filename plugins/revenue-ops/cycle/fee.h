/* The fee cycle (spec §4.6): reconcile forwards, gather the node, build
 * each channel's observation (flow, forward window since the last
 * update, peer reputation / uptime / HTLC hold, mempool, policy), run the
 * engine's fee_ctl_step with the plugin's PRNG, act (setchannel only for
 * a decided change, CLBOSS told first), and persist in one transaction:
 * a channel's new state only once its setchannel succeeded.
 *
 * Dry run, fee authority off and pause: every decision is made and
 * reported (revenue-status, revenue-fee-debug, fee_changes rows marked
 * applied = 0) but nothing is sent, and the learned state is left as it
 * was, because the fee on the channel did not change. */
#ifndef HIVE_REVENUE_OPS_FEE_CYCLE_H
#define HIVE_REVENUE_OPS_FEE_CYCLE_H
#include "engine/fee_ctl.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct chan_info;
struct cycle;
struct revenue;

/* A decision as JSON (new reference): action, class, fees, bounds,
 * decided_by, reason, skip_reason, every step with its numbers, and a
 * sentence saying why the final fee was chosen. */
json_t *fee_decision_json(const struct fee_ctl_decision *d);

/* cycles.h body of the "fee-adjustment" cycle. */
void fee_cycle_run(struct revenue *r, struct cycle *c);

/* revenue-fee-debug: decide every channel (or @only_scid) now without
 * acting or persisting, with a PRNG forked from the plugin's (so the
 * plugin's own sequence is untouched), and answer @cmd. */
struct command;
void fee_debug_start(struct revenue *r, struct command *cmd,
		     const char *only_scid);

/* The last fee cycle's decision summary, as revenue-fee-debug's
 * last_cycle_decision and the datastore's revenue/status show it: {time,
 * action, dominant_input, reason, safety_block, evaluated, changed,
 * adopted, failed, not_sent} (new reference). */
struct fee_cycle_summary;
json_t *fee_cycle_summary_json(const struct fee_cycle_summary *s);

#endif
