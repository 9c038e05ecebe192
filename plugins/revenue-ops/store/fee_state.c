/* The fee controller's persisted state; see fee_state.h. */
#include "plugins/revenue-ops/store/fee_state.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <math.h>
#include <string.h>

/* The state BLOB of the row @sql finds by @key, copied into *buf (NULL
 * when there is none; caller frees). */
static bool read_blob(struct revenue *r, const char *sql, const char *key,
		      double **buf, size_t *bytes, char **err)
{
	sqlite3_stmt *q = store_stmt(r->db, sql, err);

	*buf = NULL;
	if (!q)
		return false;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*bytes = (size_t)sqlite3_column_bytes(q, 0);
		*buf = xmalloc(*bytes + sizeof(double));
		memcpy(*buf, sqlite3_column_blob(q, 0), *bytes);
	}
	store_done(q);
	return true;
}

bool fee_state_load(struct revenue *r, const char *scid, const char *channel_id,
		    struct fee_ctl_state *st, bool *found, char **err)
{
	size_t bytes = 0;
	double *buf = NULL;
	const char *e;

	*found = false;
	memset(st, 0, sizeof(*st));
	/* A splice gives the channel a new scid: then find it by its
	 * channel id. */
	if (!read_blob(r, "SELECT state FROM fee_state WHERE channel_id = ?1",
		       scid, &buf, &bytes, err))
		return false;
	if (!buf && channel_id && *channel_id &&
	    !read_blob(r,
		       "SELECT state FROM fee_state WHERE full_channel_id = ?1 "
		       "LIMIT 1",
		       channel_id, &buf, &bytes, err))
		return false;
	if (!buf)
		return true;
	*found = true;
	e = bytes % sizeof(double)
		? "fee_ctl: state length is not whole numbers"
		: fee_ctl_state_deserialise(st, buf, bytes / sizeof(double));
	free(buf);
	if (e) {
		*found = false;
		memset(st, 0, sizeof(*st));
		*err = xfmt("fee state of %s unreadable (%s): starting afresh",
			    scid, e);
		return false;
	}
	return true;
}

bool fee_state_save_blob(struct revenue *r, const char *scid,
			 const char *channel_id, const char *peer_id,
			 const double *v, size_t n, uint64_t now, char **err)
{
	sqlite3_stmt *st;

	if (channel_id && *channel_id) {
		st = store_stmt(r->db,
				"DELETE FROM fee_state WHERE full_channel_id = "
				"?1 AND channel_id != ?2",
				err);
		if (!st)
			return false;
		sqlite3_bind_text(st, 1, channel_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, scid, -1, SQLITE_TRANSIENT);
		if (!store_step_done(r->db, st, "fee_state", err))
			return false;
	}
	st = store_stmt(r->db,
			"INSERT OR REPLACE INTO fee_state (channel_id, "
			"full_channel_id, peer_id, state, updated_at) VALUES "
			"(?1, ?2, ?3, ?4, ?5)",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	if (channel_id && *channel_id)
		sqlite3_bind_text(st, 2, channel_id, -1, SQLITE_TRANSIENT);
	if (peer_id)
		sqlite3_bind_text(st, 3, peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 4, v, (int)(n * sizeof(double)),
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
	return store_step_done(r->db, st, "fee_state", err);
}

bool fee_state_exists(struct revenue *r, const char *scid,
		      const char *channel_id, bool *has, char **err)
{
	sqlite3_stmt *q = store_stmt(r->db,
				     "SELECT 1 FROM fee_state WHERE "
				     "channel_id = ?1 OR (?2 != '' AND "
				     "full_channel_id = ?2) LIMIT 1",
				     err);
	int rc;

	if (!q)
		return false;
	sqlite3_bind_text(q, 1, scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, channel_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(q);
	store_done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*err = xfmt("fee_state: %s", store_errmsg(r->db));
		return false;
	}
	*has = rc == SQLITE_ROW;
	return true;
}

double *fee_state_serialise(const struct fee_ctl_state *st, size_t *n)
{
	size_t len = fee_ctl_state_serialised_len(st);
	double *v = xmalloc(sizeof(double) * (len + 1));
	*n = fee_ctl_state_serialise(st, v, len + 1);
	return v;
}

bool fee_state_save(struct revenue *r, const char *scid, const char *channel_id,
		    const char *peer_id, const struct fee_ctl_state *st,
		    uint64_t now, char **err)
{
	size_t n;
	double *v = fee_state_serialise(st, &n);
	bool ok =
	    fee_state_save_blob(r, scid, channel_id, peer_id, v, n, now, err);
	free(v);
	return ok;
}

bool fee_state_rekey(struct revenue *r, const char *old_scid,
		     const char *new_scid, char **err)
{
	static const char *const sql[] = {
	    "DELETE FROM fee_state WHERE channel_id = ?2 AND EXISTS "
	    "(SELECT 1 FROM fee_state WHERE channel_id = ?1)",
	    "UPDATE fee_state SET channel_id = ?2 WHERE channel_id = ?1",
	    "DELETE FROM channel_states WHERE channel_id = ?2 AND EXISTS "
	    "(SELECT 1 FROM channel_states WHERE channel_id = ?1)",
	    "UPDATE channel_states SET channel_id = ?2 WHERE channel_id = "
	    "?1",
	    "DELETE FROM kalman_state WHERE channel_id = ?2 AND EXISTS "
	    "(SELECT 1 FROM kalman_state WHERE channel_id = ?1)",
	    "UPDATE kalman_state SET channel_id = ?2 WHERE channel_id = ?1",
	    "DELETE FROM fee_anchors WHERE channel_id = ?2 AND EXISTS "
	    "(SELECT 1 FROM fee_anchors WHERE channel_id = ?1)",
	    "UPDATE fee_anchors SET channel_id = ?2 WHERE channel_id = ?1",
	};
	bool own = !store_in_transaction(r->db);

	if (!old_scid || !new_scid || !strcmp(old_scid, new_scid))
		return true;
	if (own && !store_begin(r->db, err))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
		sqlite3_stmt *st = store_stmt(r->db, sql[i], err);
		if (!st)
			goto rollback;
		sqlite3_bind_text(st, 1, old_scid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, new_scid, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE) {
			*err = xfmt("moving fee state %s -> %s: %s", old_scid,
				    new_scid, store_errmsg(r->db));
			store_done(st);
			goto rollback;
		}
		store_done(st);
	}
	if (own && !store_commit(r->db, err))
		return false;
	return true;
rollback:
	if (own)
		store_rollback(r->db);
	return false;
}

bool fee_change_record(struct revenue *r, const char *scid, const char *peer_id,
		       int64_t old_ppm, int64_t new_ppm, int64_t old_base,
		       int64_t new_base, const char *reason,
		       const char *reason_code, const char *source, bool manual,
		       bool dry_run, bool applied, uint64_t now, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "INSERT INTO fee_changes (channel_id, peer_id, old_fee_ppm, "
	    "new_fee_ppm, old_base_msat, new_base_msat, reason, "
	    "reason_code, source, manual, dry_run, applied, timestamp) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	    "?13)",
	    err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, peer_id ? peer_id : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, old_ppm);
	sqlite3_bind_int64(st, 4, new_ppm);
	sqlite3_bind_int64(st, 5, old_base);
	sqlite3_bind_int64(st, 6, new_base);
	sqlite3_bind_text(st, 7, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, reason_code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 10, manual);
	sqlite3_bind_int(st, 11, dry_run);
	sqlite3_bind_int(st, 12, applied);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)now);
	return store_step_done(r->db, st, "fee_changes", err);
}

json_t *fee_changes_recent(struct revenue *r, const char *scid, int limit)
{
	char *err = NULL;
	json_t *arr = json_array();
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT id, channel_id, peer_id, old_fee_ppm, new_fee_ppm, "
	    "old_base_msat, new_base_msat, reason, reason_code, source, "
	    "manual, dry_run, applied, timestamp FROM fee_changes WHERE "
	    "?1 IS NULL OR channel_id = ?1 ORDER BY id DESC LIMIT ?2",
	    &err);
	if (!st) {
		free(err);
		return arr;
	}
	if (scid)
		sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, limit);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    arr,
		    json_pack(
			"{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:s,s:s,"
			"s:b,s:b,s:b,s:I}",
			"id", (json_int_t)sqlite3_column_int64(st, 0),
			"channel_id", sqlite3_column_text(st, 1), "peer_id",
			sqlite3_column_text(st, 2), "old_fee_ppm",
			(json_int_t)sqlite3_column_int64(st, 3), "new_fee_ppm",
			(json_int_t)sqlite3_column_int64(st, 4),
			"old_base_msat",
			(json_int_t)sqlite3_column_int64(st, 5),
			"new_base_msat",
			(json_int_t)sqlite3_column_int64(st, 6), "reason",
			sqlite3_column_text(st, 7)
			    ? (const char *)sqlite3_column_text(st, 7)
			    : "",
			"reason_code",
			sqlite3_column_text(st, 8)
			    ? (const char *)sqlite3_column_text(st, 8)
			    : "",
			"source", sqlite3_column_text(st, 9), "manual",
			sqlite3_column_int(st, 10), "dry_run",
			sqlite3_column_int(st, 11), "applied",
			sqlite3_column_int(st, 12), "timestamp",
			(json_int_t)sqlite3_column_int64(st, 13)));
	store_done(st);
	return arr;
}

bool fee_change_latest(struct revenue *r, const char *scid,
		       struct fee_change_latest *out, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT old_fee_ppm, new_fee_ppm, applied, timestamp FROM "
	    "fee_changes WHERE channel_id = ?1 ORDER BY id DESC LIMIT 1",
	    err);

	memset(out, 0, sizeof(*out));
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->found = true;
		out->old_fee_ppm = sqlite3_column_int64(st, 0);
		out->new_fee_ppm = sqlite3_column_int64(st, 1);
		out->applied = sqlite3_column_int(st, 2);
		out->timestamp = (uint64_t)sqlite3_column_int64(st, 3);
	}
	store_done(st);
	return true;
}

bool fee_changes_prune(struct revenue *r, uint64_t before_sec, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db, "DELETE FROM fee_changes WHERE timestamp < ?1", err);

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before_sec);
	return store_step_done(r->db, st, "fee_changes", err);
}

json_t *fee_state_json(const struct fee_ctl_params *p,
		       const struct fee_ctl_state *st, uint64_t now)
{
	struct fee_ctl_posterior post;

	if (!st->version)
		return json_null();
	fee_ctl_posterior(p, st, now, &post);
	return json_pack(
	    "{s:I,s:I,s:I,s:s,s:I,s:f,s:f,s:f,s:i,s:f,s:b,s:f,s:I,s:f,"
	    "s:I,s:b}",
	    "last_set_fee_ppm", (json_int_t)st->last_set_fee_ppm,
	    "last_broadcast", (json_int_t)st->last_broadcast_sec, "last_update",
	    (json_int_t)st->last_update_sec, "last_class",
	    fee_ctl_class_name((enum fee_ctl_class)st->last_class),
	    "external_adopted_at", (json_int_t)st->external_adopted_sec,
	    "posterior_mean_ppm", post.mean_ppm, "posterior_std_ppm",
	    post.std_ppm, "ema_revenue_sat_per_hour",
	    st->ema_revenue_sat_per_hour, "observations", (int)st->n_obs,
	    "aimd_modifier", st->aimd_modifier, "aimd_active",
	    st->aimd_active != 0, "vegas_intensity", st->vegas_intensity,
	    "probe_started", (json_int_t)st->probe_started_sec, "htlc_util_ema",
	    st->htlc_util_ema, "pending_target_ppm",
	    (json_int_t)st->pending_target_ppm, "from_prior", post.from_prior);
}

/* ---- mempool samples ---- */

bool mempool_samples_since(struct revenue *r, uint64_t since_sec,
			   double *sum, uint64_t *n, char **err)
{
	sqlite3_stmt *st = store_stmt(r->db,
				      "SELECT COALESCE(SUM(sat_per_vbyte), 0), "
				      "COUNT(*) FROM mempool_samples WHERE "
				      "timestamp >= ?1",
				      err);

	*sum = 0;
	*n = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since_sec);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*sum = sqlite3_column_double(st, 0);
		*n = (uint64_t)sqlite3_column_int64(st, 1);
	}
	store_done(st);
	return true;
}

bool mempool_sample_record(struct revenue *r, uint64_t now, double satvb,
			   uint64_t keep_since, char **err)
{
	sqlite3_stmt *st = store_stmt(r->db,
				      "INSERT INTO mempool_samples (timestamp, "
				      "sat_per_vbyte) VALUES (?1, ?2)",
				      err);

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_double(st, 2, satvb);
	if (!store_step_done(r->db, st, "mempool_samples", err))
		return false;
	st = store_stmt(
	    r->db, "DELETE FROM mempool_samples WHERE timestamp < ?1", err);
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)keep_since);
	return store_step_done(r->db, st, "mempool_samples", err);
}
