/* The operator's fee anchors (revenue-fee-anchor): "price this channel
 * near N ppm for a while". An anchor does not set a fee; it biases the
 * controller's Thompson sample toward the target,
 *
 *   w = base_weight x confidence,  fee = w x target + (1 - w) x sample,
 *
 * for its time to live (1 s .. 7 days). Everything else of the priority
 * order still applies (engine/fee_ctl.h): policies, the external hold,
 * congestion, probe and fire sale pre-empt it, and damping, cold start,
 * scarcity, floor and ceiling apply to the blended fee.
 *
 * At most one anchor per channel, in table fee_anchors (migration 5),
 * keyed by scid with the 64-hex channel id beside it so it follows a
 * splice. Reads never write: an expired anchor is simply not returned;
 * writes (set, clear, clear-all, the fee cycle) delete expired rows.
 *
 * The pure part (action names, parameter checks, the JSON, the engine's
 * view) is separate from storage so both can be unit tested; storage takes
 * the store so it can be tested on :memory:. The RPC is rpc/anchor.c. */
#ifndef HIVE_REVENUE_OPS_ANCHOR_H
#define HIVE_REVENUE_OPS_ANCHOR_H
#include "engine/fee_ctl.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define FEE_ANCHOR_MAX_FEE_PPM 100000
#define FEE_ANCHOR_MAX_TTL_SEC 604800 /* 7 days */
#define FEE_ANCHOR_MAX_REASON 256     /* bytes */

struct fee_anchor {
	char scid[24];
	char channel_id[65]; /* 64-hex; "" if unknown */
	char peer_id[67];    /* "" if unknown */
	int64_t target_fee_ppm;
	double confidence;
	double base_weight;
	uint64_t created_at;
	uint64_t expires_at;
	char reason[FEE_ANCHOR_MAX_REASON + 1];
};

enum fee_anchor_action {
	FEE_ANCHOR_SET,
	FEE_ANCHOR_LIST,
	FEE_ANCHOR_GET,
	FEE_ANCHOR_CLEAR,
	FEE_ANCHOR_CLEAR_ALL,
};

/* "set", "list", "get", "clear", "clear-all" (case and surrounding blanks
 * ignored). False for anything else. */
bool fee_anchor_action_parse(const char *s, enum fee_anchor_action *out);

/* Check the values of a `set`: target 0..100,000 ppm, confidence and
 * base_weight 0..1, ttl_hours giving 1..604,800 seconds, reason at most
 * FEE_ANCHOR_MAX_REASON bytes. On success *ttl_sec is the rounded time to
 * live and NULL is returned; otherwise the parameter's name goes to
 * *field and a message for the operator (new string, caller frees) is
 * returned. */
char *fee_anchor_check(int64_t target_fee_ppm, double confidence,
		       double base_weight, double ttl_hours, const char *reason,
		       uint64_t *ttl_sec, const char **field)
	__attribute__((warn_unused_result));

/* base_weight x confidence: the weight of the target in the blend. */
double fee_anchor_weight(const struct fee_anchor *a);

/* Is @a in force at @now (expires_at > now)? */
bool fee_anchor_active(const struct fee_anchor *a, uint64_t now);

/* {channel_id, peer_id, target_fee_ppm, confidence, base_weight,
 * effective_weight, created_at, expires_at, reason,
 * ttl_seconds_remaining} (new reference). */
json_t *fee_anchor_json(const struct fee_anchor *a, uint64_t now);

/* Give @a to the controller through @o (the engine ignores it once
 * expired). @a NULL: no anchor. */
void fee_anchor_to_obs(const struct fee_anchor *a, struct fee_ctl_obs *o);

/* ---- storage (table fee_anchors) ---- */

/* The anchor of a channel active at @now: by @scid, or by its 64-hex
 * @channel_id (may be NULL or "") when a splice changed the scid. Read
 * only. *found false (and @out zeroed) when there is none. */
bool fee_anchor_get(struct store *db, const char *scid,
		    const char *channel_id, uint64_t now,
		    struct fee_anchor *out, bool *found, char **err)
	__attribute__((warn_unused_result));

/* Every anchor active at @now, ordered by scid. Read only. Caller frees
 * *out. */
bool fee_anchor_list(struct store *db, uint64_t now, struct fee_anchor **out,
		     size_t *n, char **err) __attribute__((warn_unused_result));

/* Insert or replace @a's channel's anchor (a row of the same channel id
 * under an older scid goes too), in the caller's transaction. */
bool fee_anchor_put(struct store *db, const struct fee_anchor *a, char **err)
	__attribute__((warn_unused_result));

/* Delete the channel's anchor (by @scid or @channel_id), in the caller's
 * transaction; *deleted counts the rows removed. */
bool fee_anchor_delete(struct store *db, const char *scid,
		       const char *channel_id, uint64_t *deleted, char **err)
	__attribute__((warn_unused_result));

/* Delete every anchor, in the caller's transaction; *active counts those
 * that were still in force at @now. */
bool fee_anchor_delete_all(struct store *db, uint64_t now, uint64_t *active,
			   char **err) __attribute__((warn_unused_result));

/* Delete the anchors expired at @now, in the caller's transaction. */
bool fee_anchor_purge(struct store *db, uint64_t now, uint64_t *purged,
		      char **err) __attribute__((warn_unused_result));

#endif
