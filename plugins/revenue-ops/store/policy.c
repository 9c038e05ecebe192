/* Peer policies: validation and storage; see policy.h. */
#include "plugins/revenue-ops/store/policy.h"
#include "common/errcode.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/store/sql.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const strategies[] = {"dynamic", "static", "passive", "hive",
					 NULL};
static const char *const modes[] = {"enabled", "disabled", "source_only",
				    "sink_only", NULL};

void policy_default(struct policy *p, const char *peer_id)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->peer_id, sizeof(p->peer_id), "%s", peer_id ? peer_id : "");
	p->strategy = FEE_CTL_DYNAMIC;
	p->rebalance = POLICY_REB_ENABLED;
	p->fee_ppm_target = -1;
	p->tags = json_array();
}

void policy_clear(struct policy *p)
{
	json_decref(p->tags);
	p->tags = NULL;
}

void policy_copy(struct policy *dst, const struct policy *src)
{
	*dst = *src;
	dst->tags = json_deep_copy(src->tags);
}

const char *policy_rebalance_name(enum policy_rebalance m)
{
	return modes[m];
}

bool policy_strategy_parse(const char *s, enum fee_ctl_strategy *out)
{
	static const enum fee_ctl_strategy vals[] = {
	    FEE_CTL_DYNAMIC, FEE_CTL_STATIC, FEE_CTL_PASSIVE, FEE_CTL_HIVE};
	for (size_t i = 0; s && strategies[i]; i++)
		if (!strcasecmp(s, strategies[i])) {
			*out = vals[i];
			return true;
		}
	return false;
}

bool policy_rebalance_parse(const char *s, enum policy_rebalance *out)
{
	for (size_t i = 0; s && modes[i]; i++)
		if (!strcasecmp(s, modes[i])) {
			*out = (enum policy_rebalance)i;
			return true;
		}
	return false;
}

static bool fail(struct policy_error *e, int code, const char *field,
		 const char *fmt, ...) PRINTF_FMT(4, 5);
static bool fail(struct policy_error *e, int code, const char *field,
		 const char *fmt, ...)
{
	va_list ap;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return false;
}

static bool tag_valid(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	if (n == 0 || n > POLICY_MAX_TAG_LEN)
		return false;
	for (const char *c = t; *c; c++)
		if ((unsigned char)*c < 0x20)
			return false;
	return true;
}

bool policy_update_from_json(const json_t *obj, const char *where,
			     struct policy_update *u, const char **peer_id,
			     struct policy_error *e)
{
	const char *k;
	json_t *v;
	char f[48];

	memset(u, 0, sizeof(*u));
	*peer_id = NULL;
	if (!json_is_object(obj))
		return fail(e, ERR_INVALID_PARAMS, where,
			    "%s: should be an object", where);
	json_object_foreach((json_t *)obj, k, v)
	{
		snprintf(f, sizeof(f), "%s.%s", where, k);
		if (!strcmp(k, "peer_id")) {
			if (!json_is_string(v))
				return fail(e, ERR_INVALID_PARAMS, f,
					    "%s: should be a string", f);
			*peer_id = json_string_value(v);
		} else if (!strcmp(k, "strategy")) {
			if (!json_is_string(v))
				return fail(e, ERR_INVALID_PARAMS, f,
					    "%s: should be a string", f);
			u->has_strategy = true;
			u->strategy = json_string_value(v);
		} else if (!strcmp(k, "rebalance") ||
			   !strcmp(k, "rebalance_mode")) {
			if (!json_is_string(v))
				return fail(e, ERR_INVALID_PARAMS, f,
					    "%s: should be a string", f);
			u->has_rebalance = true;
			u->rebalance = json_string_value(v);
		} else if (!strcmp(k, "fee_ppm") ||
			   !strcmp(k, "fee_ppm_target")) {
			if (json_is_null(v)) {
				u->has_fee_ppm = true;
				u->fee_ppm = -1;
				continue;
			}
			if (!json_is_integer(v))
				return fail(e, ERR_INVALID_PARAMS, f,
					    "%s: should be an integer", f);
			u->has_fee_ppm = true;
			u->fee_ppm = json_integer_value(v);
			if (u->fee_ppm < 0)
				return fail(e, ERR_OUT_OF_RANGE, f,
					    "%s: fee_ppm must be 0..%d, not "
					    "%lld",
					    f, POLICY_MAX_FEE_PPM,
					    (long long)u->fee_ppm);
		} else if (!strcmp(k, "fee_multiplier_min") ||
			   !strcmp(k, "fee_multiplier_max")) {
			if (!json_is_number(v))
				return fail(e, ERR_INVALID_PARAMS, f,
					    "%s: should be a number", f);
			if (!strcmp(k, "fee_multiplier_min")) {
				u->has_mult_min = true;
				u->mult_min = json_number_value(v);
			} else {
				u->has_mult_max = true;
				u->mult_max = json_number_value(v);
			}
		} else if (!strcmp(k, "expires_in_hours")) {
			if (json_is_null(v)) {
				u->has_expires = true;
				u->expires_in_hours = 0;
				continue;
			}
			if (!json_is_number(v))
				return fail(e, ERR_INVALID_PARAMS, f,
					    "%s: should be a number", f);
			u->has_expires = true;
			u->expires_in_hours = json_number_value(v);
		} else if (!strcmp(k, "tags")) {
			size_t i;
			json_t *t;
			if (!json_is_array(v))
				return fail(e, ERR_INVALID_PARAMS, f,
					    "%s: should be an array of "
					    "strings",
					    f);
			json_array_foreach(v, i, t) if (
			    !json_is_string(t) ||
			    !tag_valid(json_string_value(
				t))) return fail(e, ERR_INVALID_PARAMS, f,
						 "%s[%zu]: should be a "
						 "non-empty string of at "
						 "most %d characters",
						 f, i, POLICY_MAX_TAG_LEN);
			u->has_tags = true;
			u->tags = v;
		} else {
			return fail(e, ERR_INVALID_PARAMS, f,
				    "%s: unknown field", f);
		}
	}
	return true;
}

bool policy_apply_update(struct policy *p, const struct policy_update *u,
			 uint64_t now, struct policy_error *e)
{
	struct policy n = *p; /* tags are replaced last, once valid */

	if (u->has_strategy && !policy_strategy_parse(u->strategy, &n.strategy))
		return fail(e, ERR_INVALID_PARAMS, "strategy",
			    "Invalid strategy '%s'. Valid: [dynamic, static, "
			    "passive, hive]",
			    u->strategy ? u->strategy : "");
	if (u->has_rebalance &&
	    !policy_rebalance_parse(u->rebalance, &n.rebalance))
		return fail(e, ERR_INVALID_PARAMS, "rebalance",
			    "Invalid rebalance_mode '%s'. Valid: [enabled, "
			    "disabled, source_only, sink_only]",
			    u->rebalance ? u->rebalance : "");
	if (u->has_fee_ppm) {
		if (u->fee_ppm < -1 || u->fee_ppm > POLICY_MAX_FEE_PPM)
			return fail(e, ERR_OUT_OF_RANGE, "fee_ppm",
				    "fee_ppm must be an integer 0..%d, not "
				    "%lld",
				    POLICY_MAX_FEE_PPM, (long long)u->fee_ppm);
		n.fee_ppm_target = u->fee_ppm;
	}
	if (u->has_mult_min)
		n.mult_min = u->mult_min;
	if (u->has_mult_max)
		n.mult_max = u->mult_max;
	if ((u->has_mult_min && !(n.mult_min >= POLICY_MULT_MIN &&
				  n.mult_min <= POLICY_MULT_MAX)) ||
	    (u->has_mult_max &&
	     !(n.mult_max >= POLICY_MULT_MIN && n.mult_max <= POLICY_MULT_MAX)))
		return fail(e, ERR_OUT_OF_RANGE,
			    u->has_mult_min &&
				    !(n.mult_min >= POLICY_MULT_MIN &&
				      n.mult_min <= POLICY_MULT_MAX)
				? "fee_multiplier_min"
				: "fee_multiplier_max",
			    "fee multipliers must be within [%.1f, %.1f]",
			    POLICY_MULT_MIN, POLICY_MULT_MAX);
	if (n.mult_min > 0 && n.mult_max > 0 && n.mult_min > n.mult_max)
		return fail(e, ERR_OUT_OF_RANGE, "fee_multiplier_min",
			    "fee_multiplier_min (%g) must not exceed "
			    "fee_multiplier_max (%g)",
			    n.mult_min, n.mult_max);
	if (u->has_expires) {
		if (!isfinite(u->expires_in_hours) ||
		    u->expires_in_hours > POLICY_MAX_EXPIRY_HOURS)
			return fail(e, ERR_OUT_OF_RANGE, "expires_in_hours",
				    "expires_in_hours must be at most %.0f "
				    "(30 days); 0 or less clears the expiry",
				    POLICY_MAX_EXPIRY_HOURS);
		n.expires_at =
		    u->expires_in_hours > 0
			? now + (uint64_t)llround(u->expires_in_hours * 3600)
			: 0;
	}
	/* A static fee needs a target: silently behaving as dynamic was
	 * the reference's defect 37. */
	if (n.strategy == FEE_CTL_STATIC && n.fee_ppm_target < 0)
		return fail(e, ERR_INVALID_PARAMS, "fee_ppm",
			    "strategy static needs fee_ppm (the fee to pin)");
	if (u->has_tags) {
		if (json_array_size(u->tags) > POLICY_MAX_TAGS)
			return fail(e, ERR_OUT_OF_RANGE, "tags",
				    "at most %d tags", POLICY_MAX_TAGS);
		json_t *tags = json_array();
		size_t i;
		json_t *t;
		json_array_foreach(u->tags, i, t)
		{
			bool dup = false;
			size_t j;
			json_t *o;
			if (!json_is_string(t) ||
			    !tag_valid(json_string_value(t))) {
				json_decref(tags);
				return fail(e, ERR_INVALID_PARAMS, "tags",
					    "tags[%zu]: should be a non-empty "
					    "string",
					    i);
			}
			json_array_foreach(tags, j, o) dup |= json_equal(o, t);
			if (!dup)
				json_array_append(tags, t);
		}
		json_decref(p->tags);
		n.tags = tags;
	}
	*p = n;
	return true;
}

bool policy_has_tag(const struct policy *p, const char *tag)
{
	size_t i;
	json_t *t;
	json_array_foreach(
	    p->tags, i, t) if (!strcmp(json_string_value(t), tag)) return true;
	return false;
}

bool policy_tag_add(struct policy *p, const char *tag)
{
	if (!tag_valid(tag))
		return false;
	if (policy_has_tag(p, tag))
		return true;
	if (json_array_size(p->tags) >= POLICY_MAX_TAGS)
		return false;
	json_array_append_new(p->tags, json_string(tag));
	return true;
}

void policy_tag_remove(struct policy *p, const char *tag)
{
	for (size_t i = json_array_size(p->tags); i-- > 0;)
		if (!strcmp(json_string_value(json_array_get(p->tags, i)), tag))
			json_array_remove(p->tags, i);
}

json_t *policy_json(const struct policy *p, uint64_t now)
{
	json_t *o =
	    json_pack("{s:s,s:s,s:s,s:O,s:I,s:b}", "peer_id", p->peer_id,
		      "strategy", fee_ctl_strategy_name(p->strategy),
		      "rebalance_mode", policy_rebalance_name(p->rebalance),
		      "tags", p->tags, "updated_at", (json_int_t)p->updated_at,
		      "is_expired", p->expires_at && p->expires_at <= now);
	json_object_set_new(o, "fee_ppm_target",
			    p->fee_ppm_target >= 0
				? json_integer(p->fee_ppm_target)
				: json_null());
	json_object_set_new(o, "fee_multiplier_min",
			    p->mult_min > 0 ? json_real(p->mult_min)
					    : json_null());
	json_object_set_new(o, "fee_multiplier_max",
			    p->mult_max > 0 ? json_real(p->mult_max)
					    : json_null());
	json_object_set_new(o, "expires_at",
			    p->expires_at
				? json_integer((json_int_t)p->expires_at)
				: json_null());
	json_object_set_new(o, "is_default", json_boolean(!p->exists));
	return o;
}

void policy_to_fee_ctl(const struct policy *p, struct fee_ctl_policy *out)
{
	out->strategy = p->strategy;
	out->fee_ppm_target = p->fee_ppm_target;
	out->fee_multiplier_min = p->mult_min;
	out->fee_multiplier_max = p->mult_max;
}

/* ---- storage ---- */

#define POLICY_COLS                                                            \
	"peer_id, strategy, rebalance_mode, fee_ppm_target, "                  \
	"fee_multiplier_min, fee_multiplier_max, tags, updated_at, expires_at"

static void row_to_policy(sqlite3_stmt *st, struct policy *p)
{
	const char *peer = (const char *)sqlite3_column_text(st, 0);
	const char *tags = (const char *)sqlite3_column_text(st, 6);
	json_t *t;

	policy_default(p, peer);
	p->exists = true;
	if (!policy_strategy_parse((const char *)sqlite3_column_text(st, 1),
				   &p->strategy))
		p->strategy = FEE_CTL_DYNAMIC;
	if (!policy_rebalance_parse((const char *)sqlite3_column_text(st, 2),
				    &p->rebalance))
		p->rebalance = POLICY_REB_ENABLED;
	p->fee_ppm_target = sqlite3_column_type(st, 3) == SQLITE_NULL
				? -1
				: sqlite3_column_int64(st, 3);
	p->mult_min = sqlite3_column_type(st, 4) == SQLITE_NULL
			  ? 0
			  : sqlite3_column_double(st, 4);
	p->mult_max = sqlite3_column_type(st, 5) == SQLITE_NULL
			  ? 0
			  : sqlite3_column_double(st, 5);
	t = tags ? json_loads(tags, 0, NULL) : NULL;
	if (json_is_array(t)) {
		json_decref(p->tags);
		p->tags = t;
	} else {
		json_decref(t);
	}
	p->updated_at = (uint64_t)sqlite3_column_int64(st, 7);
	p->expires_at = sqlite3_column_type(st, 8) == SQLITE_NULL
			    ? 0
			    : (uint64_t)sqlite3_column_int64(st, 8);
}

bool policy_get(struct revenue *r, const char *peer_id, uint64_t now,
		struct policy *out, bool *found, char **err)
{
	sqlite3_stmt *st =
	    store_stmt(r->db,
		       "SELECT " POLICY_COLS " FROM peer_policies WHERE "
		       "peer_id = ?1",
		       err);

	if (found)
		*found = false;
	policy_default(out, peer_id);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		struct policy p;
		row_to_policy(st, &p);
		if (found)
			*found = true;
		/* An expired policy reads as the default; the flow cycle
		 * deletes it (a read never does: defect 38). */
		if (!p.expires_at || p.expires_at > now) {
			policy_clear(out);
			*out = p;
		} else {
			policy_clear(&p);
		}
	}
	store_done(st);
	return true;
}

bool policy_load_all(struct revenue *r, uint64_t now, struct policy **out,
		     size_t *n, char **err)
{
	sqlite3_stmt *st =
	    store_stmt(r->db,
		       "SELECT " POLICY_COLS " FROM peer_policies WHERE "
		       "expires_at IS NULL OR expires_at > ?1 ORDER BY peer_id",
		       err);
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while (sqlite3_step(st) == SQLITE_ROW) {
		xgrow(out, &cap, *n + 1, sizeof(**out));
		row_to_policy(st, &(*out)[(*n)++]);
	}
	store_done(st);
	return true;
}

void policy_array_free(struct policy *arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		policy_clear(&arr[i]);
	free(arr);
}

const struct policy *policy_find(const struct policy *arr, size_t n,
				 const char *peer_id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(arr[mid].peer_id, peer_id);
		if (!c)
			return &arr[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool log_change(struct revenue *r, const char *peer_id,
		       const char *action, const char *policy_text,
		       uint64_t now, char **err)
{
	sqlite3_stmt *st =
	    store_stmt(r->db,
		       "INSERT INTO policy_changes (peer_id, action, policy, "
		       "timestamp) VALUES (?1, ?2, ?3, ?4)",
		       err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, action, -1, SQLITE_TRANSIENT);
	if (policy_text)
		sqlite3_bind_text(st, 3, policy_text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	return store_step_done(r->db, st, "policy_changes", err);
}

json_t *policy_changes_json(struct revenue *r, uint64_t since, uint64_t *last,
			    char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT id, peer_id, action, policy, timestamp FROM "
	    "policy_changes WHERE timestamp >= ?1 ORDER BY id LIMIT 1000",
	    err);
	json_t *arr;

	*last = 0;
	if (!st)
		return NULL;
	arr = json_array();
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *pol = (const char *)sqlite3_column_text(st, 3);
		json_t *pj = pol ? json_loads(pol, 0, NULL) : NULL;
		uint64_t ts = (uint64_t)sqlite3_column_int64(st, 4);
		json_array_append_new(
		    arr, json_pack("{s:I,s:s,s:s,s:o,s:I}", "id",
				   (json_int_t)sqlite3_column_int64(st, 0),
				   "peer_id", sqlite3_column_text(st, 1),
				   "action", sqlite3_column_text(st, 2),
				   "policy", pj ? pj : json_null(), "timestamp",
				   (json_int_t)ts));
		if (ts > *last)
			*last = ts;
	}
	store_done(st);
	return arr;
}

bool policy_changes_prune(struct revenue *r, uint64_t before_sec, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db, "DELETE FROM policy_changes WHERE timestamp < ?1", err);

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before_sec);
	return store_step_done(r->db, st, "policy_changes", err);
}

bool policy_put(struct revenue *r, struct policy *p, const char *action,
		uint64_t now, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "INSERT INTO peer_policies (" POLICY_COLS ") VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	    "ON CONFLICT(peer_id) DO UPDATE SET strategy = ?2, "
	    "rebalance_mode = ?3, fee_ppm_target = ?4, "
	    "fee_multiplier_min = ?5, fee_multiplier_max = ?6, tags = ?7, "
	    "updated_at = ?8, expires_at = ?9",
	    err);
	char *tags, *text;
	json_t *j;
	bool ok;

	if (!st)
		return false;
	p->updated_at = now;
	p->exists = true;
	tags = json_dumps(p->tags, JSON_COMPACT);
	sqlite3_bind_text(st, 1, p->peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, fee_ctl_strategy_name(p->strategy), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, policy_rebalance_name(p->rebalance), -1,
			  SQLITE_STATIC);
	if (p->fee_ppm_target >= 0)
		sqlite3_bind_int64(st, 4, p->fee_ppm_target);
	if (p->mult_min > 0)
		sqlite3_bind_double(st, 5, p->mult_min);
	if (p->mult_max > 0)
		sqlite3_bind_double(st, 6, p->mult_max);
	sqlite3_bind_text(st, 7, tags, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
	if (p->expires_at)
		sqlite3_bind_int64(st, 9, (sqlite3_int64)p->expires_at);
	free(tags);
	if (!store_step_done(r->db, st, "peer_policies", err))
		return false;
	j = policy_json(p, now);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	ok = log_change(r, p->peer_id, action, text, now, err);
	free(text);
	return ok;
}

bool policy_delete(struct revenue *r, const char *peer_id, uint64_t now,
		   char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db, "DELETE FROM peer_policies WHERE peer_id = ?1", err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
	if (!store_step_done(r->db, st, "peer_policies", err))
		return false;
	return log_change(r, peer_id, "delete", NULL, now, err);
}

bool policy_expire(struct revenue *r, uint64_t now, uint64_t *deleted,
		   char **err)
{
	sqlite3_stmt *st;

	*deleted = 0;
	/* Log each expiry so `revenue-policy changes` shows it. */
	st = store_stmt(r->db,
			"INSERT INTO policy_changes (peer_id, action, policy, "
			"timestamp) SELECT peer_id, 'expire', NULL, ?1 FROM "
			"peer_policies WHERE expires_at IS NOT NULL AND "
			"expires_at <= ?1",
			err);
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	if (!store_step_done(r->db, st, "policy_changes", err))
		return false;
	st = store_stmt(r->db,
			"DELETE FROM peer_policies WHERE expires_at IS NOT "
			"NULL AND expires_at <= ?1",
			err);
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	if (!store_step_done(r->db, st, "peer_policies", err))
		return false;
	*deleted = (uint64_t)sqlite3_changes(store_db(r->db));
	return true;
}

/* ---- read-only views for the reports ---- */

json_t *policy_row_json(struct revenue *r, const char *peer)
{
	sqlite3_stmt *st = sql_try_prepare(
	    r->db, "SELECT strategy, rebalance_mode, fee_ppm_target, "
		   "fee_multiplier_min, fee_multiplier_max, tags, updated_at, "
		   "expires_at FROM peer_policies WHERE peer_id = ?1");
	json_t *o;

	if (!st)
		return json_null();
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return json_pack("{s:s,s:s,s:s,s:b}", "peer_id", peer,
				 "strategy", "dynamic", "rebalance_mode",
				 "enabled", "is_default", true);
	}
	o = json_object();
	json_object_set_new(o, "peer_id", json_string(peer));
	json_object_set_new(o, "strategy", sql_col_json_text(st, 0));
	json_object_set_new(o, "rebalance_mode", sql_col_json_text(st, 1));
	json_object_set_new(o, "fee_ppm_target", sql_col_json_num(st, 2));
	json_object_set_new(o, "fee_multiplier_min", sql_col_json_num(st, 3));
	json_object_set_new(o, "fee_multiplier_max", sql_col_json_num(st, 4));
	{
		const unsigned char *t = sqlite3_column_text(st, 5);
		json_t *tags = t ? json_loads((const char *)t, 0, NULL) : NULL;
		json_object_set_new(o, "tags", tags ? tags : json_array());
	}
	json_object_set_new(o, "updated_at", sql_col_json_num(st, 6));
	json_object_set_new(o, "expires_at", sql_col_json_num(st, 7));
	json_object_set_new(o, "is_default", json_false());
	sqlite3_finalize(st);
	return o;
}

void policy_each_live(struct revenue *r, uint64_t now,
		      void (*cb)(const char *peer_id, const char *strategy,
				 const char *rebalance_mode,
				 const char *tags_json, void *arg),
		      void *arg)
{
	sqlite3_stmt *st = sql_try_prepare(
	    r->db, "SELECT peer_id, strategy, rebalance_mode, tags FROM "
		   "peer_policies WHERE expires_at IS NULL OR expires_at > ?1 "
		   "ORDER BY peer_id");

	if (!st)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while (sqlite3_step(st) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1),
		   (const char *)sqlite3_column_text(st, 2),
		   (const char *)sqlite3_column_text(st, 3), arg);
	sqlite3_finalize(st);
}
