/* The operator's fee anchors: checks and storage; see anchor.h. */
#include "plugins/revenue-ops/store/anchor.h"
#include "common/json_util.h"
#include "common/store.h"
#include "common/util.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the pure part ---- */

static const struct {
	const char *name;
	enum fee_anchor_action action;
} action_names[] = {
    {"set", FEE_ANCHOR_SET},	 {"list", FEE_ANCHOR_LIST},
    {"get", FEE_ANCHOR_GET},	 {"clear", FEE_ANCHOR_CLEAR},
    {"clear-all", FEE_ANCHOR_CLEAR_ALL},
};

bool fee_anchor_action_parse(const char *s, enum fee_anchor_action *out)
{
	char buf[16];
	size_t n = 0;

	if (!s)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	for (; *s && n < sizeof(buf) - 1; s++)
		buf[n++] = (char)tolower((unsigned char)*s);
	if (*s)
		return false; /* longer than any action */
	while (n && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(action_names); i++)
		if (!strcmp(buf, action_names[i].name)) {
			*out = action_names[i].action;
			return true;
		}
	return false;
}

char *fee_anchor_check(int64_t target_fee_ppm, double confidence,
		       double base_weight, double ttl_hours, const char *reason,
		       uint64_t *ttl_sec, const char **field)
{
	double secs;

	if (target_fee_ppm < 0 || target_fee_ppm > FEE_ANCHOR_MAX_FEE_PPM) {
		*field = "target_fee_ppm";
		return xfmt("target_fee_ppm must be 0..%d, not %lld",
			    FEE_ANCHOR_MAX_FEE_PPM, (long long)target_fee_ppm);
	}
	if (!(confidence >= 0 && confidence <= 1)) {
		*field = "confidence";
		return xfmt("confidence must be 0..1, not %g", confidence);
	}
	if (!(base_weight >= 0 && base_weight <= 1)) {
		*field = "base_weight";
		return xfmt("base_weight must be 0..1, not %g", base_weight);
	}
	/* Fractional hours are fine; what counts is the seconds. */
	secs = ttl_hours * 3600.0;
	if (!(secs >= 1 && secs <= FEE_ANCHOR_MAX_TTL_SEC)) {
		*field = "ttl_hours";
		return xfmt("ttl_hours must give 1 second .. 7 days (%d s, "
			    "168 hours), not %g hours",
			    FEE_ANCHOR_MAX_TTL_SEC, ttl_hours);
	}
	if (reason && strlen(reason) > FEE_ANCHOR_MAX_REASON) {
		*field = "reason";
		return xfmt("reason must be at most %d bytes, not %zu",
			    FEE_ANCHOR_MAX_REASON, strlen(reason));
	}
	*ttl_sec = (uint64_t)(secs + 0.5);
	if (*ttl_sec > FEE_ANCHOR_MAX_TTL_SEC)
		*ttl_sec = FEE_ANCHOR_MAX_TTL_SEC;
	*field = NULL;
	return NULL;
}

double fee_anchor_weight(const struct fee_anchor *a)
{
	return a->base_weight * a->confidence;
}

bool fee_anchor_active(const struct fee_anchor *a, uint64_t now)
{
	return a->expires_at > now;
}

json_t *fee_anchor_json(const struct fee_anchor *a, uint64_t now)
{
	return json_pack(
	    "{s:s,s:s?,s:I,s:f,s:f,s:f,s:I,s:I,s:s,s:I}", "channel_id", a->scid,
	    "peer_id", a->peer_id[0] ? a->peer_id : NULL, "target_fee_ppm",
	    (json_int_t)a->target_fee_ppm, "confidence", a->confidence,
	    "base_weight", a->base_weight, "effective_weight",
	    fee_anchor_weight(a), "created_at", (json_int_t)a->created_at,
	    "expires_at", (json_int_t)a->expires_at, "reason", a->reason,
	    "ttl_seconds_remaining",
	    (json_int_t)(a->expires_at > now ? a->expires_at - now : 0));
}

void fee_anchor_to_obs(const struct fee_anchor *a, struct fee_ctl_obs *o)
{
	if (!a) {
		o->anchor_target_ppm = -1;
		return;
	}
	o->anchor_target_ppm = a->target_fee_ppm;
	o->anchor_confidence = a->confidence;
	o->anchor_base_weight = a->base_weight;
	o->anchor_expires_sec = a->expires_at;
}

/* ---- storage ---- */

static void col_text(sqlite3_stmt *st, int col, char *out, size_t n)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(out, n, "%s", s ? (const char *)s : "");
}

static void row_to_anchor(sqlite3_stmt *st, struct fee_anchor *a)
{
	memset(a, 0, sizeof(*a));
	col_text(st, 0, a->scid, sizeof(a->scid));
	col_text(st, 1, a->channel_id, sizeof(a->channel_id));
	col_text(st, 2, a->peer_id, sizeof(a->peer_id));
	a->target_fee_ppm = sqlite3_column_int64(st, 3);
	a->confidence = sqlite3_column_double(st, 4);
	a->base_weight = sqlite3_column_double(st, 5);
	col_text(st, 6, a->reason, sizeof(a->reason));
	a->created_at = (uint64_t)sqlite3_column_int64(st, 7);
	a->expires_at = (uint64_t)sqlite3_column_int64(st, 8);
}

#define ANCHOR_COLUMNS                                                         \
	"channel_id, full_channel_id, peer_id, target_fee_ppm, confidence, "   \
	"base_weight, reason, created_at, expires_at"

bool fee_anchor_get(struct store *db, const char *scid,
		    const char *channel_id, uint64_t now,
		    struct fee_anchor *out, bool *found, char **err)
{
	/* The scid's own row first; the channel id only finds a row left
	 * under the scid the channel had before a splice. */
	sqlite3_stmt *st = store_stmt(
	    db,
	    "SELECT " ANCHOR_COLUMNS " FROM fee_anchors WHERE expires_at > ?3 "
	    "AND (channel_id = ?1 OR (?2 != '' AND full_channel_id = ?2)) "
	    "ORDER BY channel_id = ?1 DESC LIMIT 1",
	    err);
	int rc;

	*found = false;
	memset(out, 0, sizeof(*out));
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid ? scid : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, channel_id ? channel_id : "", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_anchor(st, out);
		*found = true;
	} else if (rc != SQLITE_DONE) {
		/* Busy or corrupt is not "no anchor". */
		*err = xfmt("fee_anchors: %s", store_errmsg(db));
		store_done(st);
		return false;
	}
	store_done(st);
	return true;
}

bool fee_anchor_list(struct store *db, uint64_t now, struct fee_anchor **out,
		     size_t *n, char **err)
{
	sqlite3_stmt *st = store_stmt(db,
				      "SELECT " ANCHOR_COLUMNS
				      " FROM fee_anchors WHERE expires_at > "
				      "?1 ORDER BY channel_id",
				      err);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		xgrow(out, &cap, *n + 1, sizeof(**out));
		row_to_anchor(st, &(*out)[(*n)++]);
	}
	if (rc != SQLITE_DONE) {
		*err = xfmt("fee_anchors: %s", store_errmsg(db));
		store_done(st);
		free(*out);
		*out = NULL;
		*n = 0;
		return false;
	}
	store_done(st);
	return true;
}

/* One write of fee_anchors; *changes (if asked) the rows it touched. */
static bool step_done(struct store *db, sqlite3_stmt *st, uint64_t *changes,
		      char **err)
{
	if (!store_step_done(db, st, "fee_anchors", err))
		return false;
	if (changes)
		*changes = (uint64_t)sqlite3_changes(store_db(db));
	return true;
}

bool fee_anchor_put(struct store *db, const struct fee_anchor *a, char **err)
{
	sqlite3_stmt *st;

	if (a->channel_id[0]) {
		st = store_stmt(db,
				"DELETE FROM fee_anchors WHERE full_channel_id "
				"= ?1 AND channel_id != ?2",
				err);
		if (!st)
			return false;
		sqlite3_bind_text(st, 1, a->channel_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, a->scid, -1, SQLITE_TRANSIENT);
		if (!step_done(db, st, NULL, err))
			return false;
	}
	st = store_stmt(db,
			"INSERT OR REPLACE INTO fee_anchors (" ANCHOR_COLUMNS
			") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, a->scid, -1, SQLITE_TRANSIENT);
	if (a->channel_id[0])
		sqlite3_bind_text(st, 2, a->channel_id, -1, SQLITE_TRANSIENT);
	if (a->peer_id[0])
		sqlite3_bind_text(st, 3, a->peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, a->target_fee_ppm);
	sqlite3_bind_double(st, 5, a->confidence);
	sqlite3_bind_double(st, 6, a->base_weight);
	sqlite3_bind_text(st, 7, a->reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)a->created_at);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)a->expires_at);
	return step_done(db, st, NULL, err);
}

bool fee_anchor_delete(struct store *db, const char *scid,
		       const char *channel_id, uint64_t *deleted, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "DELETE FROM fee_anchors WHERE channel_id = ?1 OR (?2 != '' AND "
	    "full_channel_id = ?2)",
	    err);

	*deleted = 0;
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid ? scid : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, channel_id ? channel_id : "", -1,
			  SQLITE_TRANSIENT);
	return step_done(db, st, deleted, err);
}

bool fee_anchor_delete_all(struct store *db, uint64_t now, uint64_t *active,
			   char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db, "SELECT COUNT(*) FROM fee_anchors WHERE expires_at > ?1", err);

	*active = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	if (sqlite3_step(st) == SQLITE_ROW)
		*active = (uint64_t)sqlite3_column_int64(st, 0);
	store_done(st);
	st = store_stmt(db, "DELETE FROM fee_anchors", err);
	if (!st)
		return false;
	return step_done(db, st, NULL, err);
}

bool fee_anchor_purge(struct store *db, uint64_t now, uint64_t *purged,
		      char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db, "DELETE FROM fee_anchors WHERE expires_at <= ?1", err);

	*purged = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	return step_done(db, st, purged, err);
}
