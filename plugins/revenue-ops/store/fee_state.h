/* What the fee controller persists (tables fee_state, fee_changes,
 * mempool_samples of migration 3): each channel's learned state
 * (engine/fee_ctl.h, serialised as a BLOB of doubles, keyed by scid with
 * the 64-hex channel id beside it so it follows a splice), the history of
 * fee changes, and the mempool samples of the Vegas reflex. Reads never
 * write; writes run in the caller's transaction unless said otherwise. */
#ifndef HIVE_REVENUE_OPS_FEE_STATE_H
#define HIVE_REVENUE_OPS_FEE_STATE_H
#include "engine/fee_ctl.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * @new_scid: move its fee, flow and Kalman state and its fee anchor (the
 * per-channel rows of migrations 3 and 5). Uses the caller's transaction
 * if one is open, else its own. Returns false with *err (caller frees) on
 * a database error, nothing moved; moving a channel without state is a
 * no-op success. */
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

/* Does the channel have a fee state, under @scid or (after a splice) its
 * 64-hex @channel_id (may be "")? */
bool fee_state_exists(struct revenue *r, const char *scid,
		      const char *channel_id, bool *has, char **err)
    __attribute__((warn_unused_result));

/* @st serialised into a new array of *n doubles (caller frees). */
double *fee_state_serialise(const struct fee_ctl_state *st, size_t *n);
/* fee_state_save of an already serialised state. */
bool fee_state_save_blob(struct revenue *r, const char *scid,
			 const char *channel_id, const char *peer_id,
			 const double *v, size_t n, uint64_t now, char **err)
    __attribute__((warn_unused_result));

/* A stored state as revenue-fee-debug shows it, with the posterior
 * under @p at @now (new reference; null for a fresh state). */
json_t *fee_state_json(const struct fee_ctl_params *p,
		       const struct fee_ctl_state *st, uint64_t now);

/* The last @limit fee_changes rows, newest first (new reference). */
json_t *fee_changes_recent(struct revenue *r, const char *scid, int limit);

/* The latest fee_changes row of @scid (out->found false: none). */
struct fee_change_latest {
	bool found;
	int64_t old_fee_ppm, new_fee_ppm;
	int applied;
	uint64_t timestamp;
};
bool fee_change_latest(struct revenue *r, const char *scid,
		       struct fee_change_latest *out, char **err)
    __attribute__((warn_unused_result));

/* Delete fee changes older than @before_sec. */
bool fee_changes_prune(struct revenue *r, uint64_t before_sec, char **err)
    __attribute__((warn_unused_result));

/* ---- mempool samples ---- */

/* The sum of the samples (sat/vB) taken since @since_sec, and how many. */
bool mempool_samples_since(struct revenue *r, uint64_t since_sec,
			   double *sum, uint64_t *n, char **err)
    __attribute__((warn_unused_result));
/* Store the sample @satvb taken at @now and delete those before
 * @keep_since. */
bool mempool_sample_record(struct revenue *r, uint64_t now, double satvb,
			   uint64_t keep_since, char **err)
    __attribute__((warn_unused_result));

#endif
