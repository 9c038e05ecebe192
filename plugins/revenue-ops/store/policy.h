/* Per-peer operator policies (spec §4.11): a fee strategy (dynamic,
 * static, passive, hive), fee bounds around a target, a rebalance mode,
 * tags and an expiry. The ignore list of the reference is implemented on
 * top of them (passive + rebalancing disabled + tag "ignored").
 *
 * The pure part (parsing an update, merging it into a policy and
 * validating the result) is separate from storage so it can be tested
 * without a database. Expired policies read as the default and are
 * deleted by the flow cycle. */
#ifndef HIVE_REVENUE_OPS_POLICY_H
#define HIVE_REVENUE_OPS_POLICY_H
#include "engine/fee_ctl.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct revenue;

enum policy_rebalance {
	POLICY_REB_ENABLED,
	POLICY_REB_DISABLED,
	POLICY_REB_SOURCE_ONLY, /* may be drained, never filled */
	POLICY_REB_SINK_ONLY,	/* may be filled, never drained */
};

#define POLICY_MULT_MIN 0.1
#define POLICY_MULT_MAX 5.0
#define POLICY_MAX_EXPIRY_HOURS 720.0 /* 30 days */
#define POLICY_MAX_FEE_PPM 100000
#define POLICY_MAX_TAGS 32
#define POLICY_MAX_TAG_LEN 64
#define POLICY_BATCH_MAX 100
#define POLICY_RATE_LIMIT 10	  /* changes per peer ... */
#define POLICY_RATE_WINDOW_SEC 60 /* ... per minute */

struct policy {
	char peer_id[67];
	bool exists; /* false: the default (no row, or expired) */
	enum fee_ctl_strategy strategy;
	enum policy_rebalance rebalance;
	int64_t fee_ppm_target;	   /* -1: none */
	double mult_min, mult_max; /* 0: unset (engine defaults) */
	json_t *tags;		   /* array of strings (owned) */
	uint64_t updated_at;
	uint64_t expires_at; /* 0: never */
};

/* Fields of an update; each applies only when its has_ flag is set. */
struct policy_update {
	bool has_strategy, has_rebalance, has_fee_ppm, has_mult_min,
	    has_mult_max, has_expires, has_tags;
	const char *strategy;  /* borrowed */
	const char *rebalance; /* borrowed */
	int64_t fee_ppm;       /* -1 clears the target */
	double mult_min, mult_max;
	double expires_in_hours; /* <= 0 clears the expiry */
	const json_t *tags;	 /* borrowed array: replaces the tags */
};

/* A validation failure: which field, the JSON-RPC code, the message. */
struct policy_error {
	int code; /* ERR_INVALID_PARAMS or ERR_OUT_OF_RANGE */
	char field[48];
	char message[200];
};

/* The default policy for @peer_id (dynamic, enabled, no target). */
void policy_default(struct policy *p, const char *peer_id);
/* Release the tags (the struct may be reused after policy_default). */
void policy_clear(struct policy *p);
/* Deep copy. */
void policy_copy(struct policy *dst, const struct policy *src);

const char *policy_rebalance_name(enum policy_rebalance m);
bool policy_strategy_parse(const char *s, enum fee_ctl_strategy *out);
bool policy_rebalance_parse(const char *s, enum policy_rebalance *out);

/* Read an update from a JSON object (a `batch` entry). Field names are
 * those of revenue-policy: peer_id, strategy, rebalance (or
 * rebalance_mode), fee_ppm (or fee_ppm_target), fee_multiplier_min,
 * fee_multiplier_max, expires_in_hours, tags. Unknown or ill-typed fields
 * fail naming the field (prefixed with @where, e.g. "policies[2]").
 * @peer_id is set to the borrowed peer id. */
bool policy_update_from_json(const json_t *obj, const char *where,
			     struct policy_update *u, const char **peer_id,
			     struct policy_error *e);

/* Merge @u into @p (in place) at @now and validate the result: strategy
 * and mode names, fee target 0..100,000, multipliers within [0.1, 5.0]
 * with min <= max, expiry at most 30 days, a static strategy needs a fee
 * target (defect 37). On failure @p is unchanged and @e says why. */
bool policy_apply_update(struct policy *p, const struct policy_update *u,
			 uint64_t now, struct policy_error *e);

/* Add/remove one tag (no duplicates); false if @tag is invalid. */
bool policy_tag_add(struct policy *p, const char *tag);
void policy_tag_remove(struct policy *p, const char *tag);
bool policy_has_tag(const struct policy *p, const char *tag);

/* The reference's policy dict (new reference): peer_id, strategy,
 * rebalance_mode, fee_ppm_target, tags, updated_at, fee_multiplier_min,
 * fee_multiplier_max, expires_at, is_expired. */
json_t *policy_json(const struct policy *p, uint64_t now);

/* The engine's view of a policy. */
void policy_to_fee_ctl(const struct policy *p, struct fee_ctl_policy *out);

/* ---- storage (table peer_policies) ---- */

/* The live policy for @peer_id at @now (the default if none or expired).
 * *found (may be NULL) says whether a row exists at all, expired or not. */
bool policy_get(struct revenue *r, const char *peer_id, uint64_t now,
		struct policy *out, bool *found, char **err)
    __attribute__((warn_unused_result));
/* Every unexpired policy. Caller frees with policy_array_free. */
bool policy_load_all(struct revenue *r, uint64_t now, struct policy **out,
		     size_t *n, char **err) __attribute__((warn_unused_result));
void policy_array_free(struct policy *arr, size_t n);
/* Find @peer_id in an array from policy_load_all (sorted by peer). */
const struct policy *policy_find(const struct policy *arr, size_t n,
				 const char *peer_id);
/* Upsert @p (updated_at = @now) and log the change, in the caller's
 * transaction. */
bool policy_put(struct revenue *r, struct policy *p, const char *action,
		uint64_t now, char **err) __attribute__((warn_unused_result));
/* Delete @peer_id's policy (logged), in the caller's transaction. */
bool policy_delete(struct revenue *r, const char *peer_id, uint64_t now,
		   char **err) __attribute__((warn_unused_result));
/* The change log since @since (its first 1,000 entries) as
 * revenue-policy changes shows it, and the latest entry's time in *last
 * (new reference; NULL with *err on a database error). */
json_t *policy_changes_json(struct revenue *r, uint64_t since, uint64_t *last,
			    char **err);
/* Delete the change log (policy_changes) older than @before_sec, in the
 * caller's transaction. */
bool policy_changes_prune(struct revenue *r, uint64_t before_sec, char **err)
    __attribute__((warn_unused_result));
/* Delete every policy expired at @now, in the caller's transaction. */
bool policy_expire(struct revenue *r, uint64_t now, uint64_t *deleted,
		   char **err) __attribute__((warn_unused_result));

/* ---- read-only views (revenue-report) ----
 * Prepared directly: before the table exists they give "no data", never
 * an error. */

/* @peer_id's stored policy as revenue-report shows it (expired or not),
 * the default when it has none; null when the table does not exist. New
 * reference. */
json_t *policy_row_json(struct revenue *r, const char *peer_id);

/* @cb for each policy unexpired at @now, by peer: its strategy, mode and
 * tags (a JSON array as text); any of them may be NULL. */
void policy_each_live(struct revenue *r, uint64_t now,
		      void (*cb)(const char *peer_id, const char *strategy,
				 const char *rebalance_mode,
				 const char *tags_json, void *arg),
		      void *arg);

#endif
