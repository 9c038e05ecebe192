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

/* Load the fee state of a channel by scid, falling back to its 64-hex
 * @channel_id (a splice changed the scid: the row is re-keyed in the
 * caller's next save). *found false: a fresh zeroed state (version 0).
 * Errors: database, or a stored state that does not deserialise (logged
 * by the caller; the channel then starts fresh rather than failing every
 * cycle). */
bool fee_state_load(struct revenue *r, const char *scid, const char *channel_id,
		    struct fee_ctl_state *st, bool *found, char **err)
    __attribute__((warn_unused_result));

/* Store @st for @scid (replacing any row of the same channel_id under an
 * older scid), in the caller's transaction. */
bool fee_state_save(struct revenue *r, const char *scid, const char *channel_id,
		    const char *peer_id, const struct fee_ctl_state *st,
		    uint64_t now, char **err)
    __attribute__((warn_unused_result));

/* A splice (or anything else) moved a channel from @old_scid to
 * @new_scid: move its fee, flow and Kalman state and its fee anchor
 * (anchor.h). Uses the caller's transaction if one is open, else its own.
 * Returns false with *err (caller frees) on a database error, nothing
 * moved; moving a channel without state is a no-op success. */
bool fee_state_rekey(struct revenue *r, const char *old_scid,
		     const char *new_scid, char **err)
	__attribute__((warn_unused_result));

/* Record one fee change (table fee_changes), in the caller's
 * transaction. @source: controller, manual, external, policy. */
bool fee_change_record(struct revenue *r, const char *scid, const char *peer_id,
		       int64_t old_ppm, int64_t new_ppm, int64_t old_base,
		       int64_t new_base, const char *reason,
		       const char *reason_code, const char *source, bool manual,
		       bool dry_run, bool applied, uint64_t now, char **err)
    __attribute__((warn_unused_result));

/* A decision as JSON (new reference): action, class, fees, bounds,
 * decided_by, reason, skip_reason, every step with its numbers, and a
 * sentence saying why the final fee was chosen. */
json_t *fee_decision_json(const struct fee_ctl_decision *d);

/* The last @limit fee_changes rows, newest first (new reference). */
json_t *fee_changes_recent(struct revenue *r, const char *scid, int limit);

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
