/* The forward store; see forwards.h.
 *
 * A forward is identified by (in_channel, in_htlc_id), which every
 * lightningd version reports. Rows arrive by the page of listforwards
 * (cycle/forwards_sync.c) and are upserted one page per transaction, so a
 * million forwards hydrate without holding them all in memory. */
#include "plugins/revenue-ops/store/forwards.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "common/store.h"
#include "common/u64map.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <math.h>
#include <string.h>

bool forwards_cursor_get(struct revenue *r, const char *key, uint64_t *v,
			 char **err)
{
	sqlite3_stmt *st = store_stmt(
		r->db, "SELECT value FROM sync_state WHERE key = ?1", err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	*v = sqlite3_step(st) == SQLITE_ROW
		     ? (uint64_t)sqlite3_column_int64(st, 0)
		     : 0;
	store_done(st);
	return true;
}

bool forwards_cursor_set(struct revenue *r, const char *key, uint64_t v,
			 char **err)
{
	sqlite3_stmt *st = store_stmt(
		r->db,
		"INSERT INTO sync_state (key, value) VALUES (?1, ?2) "
		"ON CONFLICT(key) DO UPDATE SET value = ?2",
		err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
	return store_step_done(r->db, st, "sync_state", err);
}

/* CLN gives times as seconds with a fractional part. */
static bool get_time_ms(const json_t *o, const char *key, uint64_t *ms)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_number(v) || json_number_value(v) < 0)
		return false;
	*ms = (uint64_t)llround(json_number_value(v) * 1000.0);
	return true;
}

/* Upsert one listforwards entry. Malformed entries are skipped (logged
 * once per page by the caller), never fatal. */
static bool upsert(struct revenue *r, const json_t *f, char **err)
{
	const char *in = json_str(f, "in_channel");
	const char *out = json_str(f, "out_channel");
	const char *status = json_str(f, "status");
	uint64_t htlc, in_msat, out_msat = 0, fee_msat = 0, recv_ms, res_ms = 0;
	uint64_t cidx = 0, failcode = 0;
	sqlite3_stmt *st;

	if (!in || !status || !scid_valid(in) ||
	    !json_get_msat(f, "in_msat", &in_msat) ||
	    !get_time_ms(f, "received_time", &recv_ms))
		return true; /* skip */
	/* in_htlc_id is absent for some local failures before v23.11;
	 * those cannot be reconciled and do not matter for flow. */
	if (!json_get_u64(f, "in_htlc_id", &htlc))
		return true;
	if (out && !scid_valid(out))
		out = NULL;
	json_get_msat(f, "out_msat", &out_msat);
	json_get_msat(f, "fee_msat", &fee_msat);
	get_time_ms(f, "resolved_time", &res_ms);
	json_get_u64(f, "created_index", &cidx);
	json_get_u64(f, "failcode", &failcode);

	st = store_stmt(r->db,
			"INSERT INTO forwards (in_channel, in_htlc_id, "
			"created_index, out_channel, in_msat, out_msat, "
			"fee_msat, status, failcode, received_time, hold_ms) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
			"ON CONFLICT(in_channel, in_htlc_id) DO UPDATE SET "
			"created_index = COALESCE(?3, created_index), "
			"out_channel = COALESCE(?4, out_channel), "
			"out_msat = ?6, fee_msat = ?7, status = ?8, "
			"failcode = ?9, hold_ms = ?11",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, in, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)htlc);
	if (cidx)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)cidx);
	else
		sqlite3_bind_null(st, 3);
	if (out)
		sqlite3_bind_text(st, 4, out, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)in_msat);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)out_msat);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)fee_msat);
	sqlite3_bind_text(st, 8, status, -1, SQLITE_STATIC);
	if (failcode)
		sqlite3_bind_int64(st, 9, (sqlite3_int64)failcode);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)(recv_ms / 1000));
	if (res_ms >= recv_ms && res_ms)
		sqlite3_bind_int64(st, 11, (sqlite3_int64)(res_ms - recv_ms));
	else
		sqlite3_bind_null(st, 11);
	return store_step_done(r->db, st, "storing forward", err);
}

bool forwards_store_page(struct revenue *r, const json_t *items, char **err)
{
	size_t i;
	json_t *f;

	if (!store_begin(r->db, err))
		return false;
	json_array_foreach(items, i, f) {
		if (!upsert(r, f, err)) {
			store_rollback(r->db);
			return false;
		}
	}
	return store_commit(r->db, err);
}

bool forwards_prune(struct revenue *r, uint64_t cutoff_sec, uint64_t *pruned,
		    char **err)
{
	*pruned = 0;
	for (;;) {
		sqlite3_stmt *st;
		int changes;

		if (!store_begin(r->db, err))
			return false;
		/* Roll a chunk of the oldest rows into both daily views,
		 * then delete exactly those rows. */
		if (!store_exec(r->db,
				"CREATE TEMP TABLE IF NOT EXISTS prune_chunk "
				"(in_channel TEXT, in_htlc_id INTEGER);"
				"DELETE FROM prune_chunk;",
				err))
			goto fail;
		st = store_stmt(r->db,
				"INSERT INTO prune_chunk SELECT in_channel, "
				"in_htlc_id FROM forwards WHERE received_time "
				"< ?1 ORDER BY received_time LIMIT 2000",
				err);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff_sec);
		if (!store_step_done(r->db, st, "prune", err))
			goto fail;
		changes = sqlite3_changes(store_db(r->db));
		if (changes == 0) {
			store_rollback(r->db);
			return true;
		}
		if (!store_exec(
			    r->db,
			    "INSERT INTO forward_daily (day, channel, "
			    "direction, settled, in_msat, out_msat, fee_msat, "
			    "failed) "
			    "SELECT f.received_time / 86400 * 86400, "
			    "f.out_channel, 0, "
			    "SUM(f.status = 'settled'), "
			    "SUM(CASE WHEN f.status = 'settled' THEN f.in_msat "
			    "ELSE 0 END), "
			    "SUM(CASE WHEN f.status = 'settled' THEN f.out_msat "
			    "ELSE 0 END), "
			    "SUM(CASE WHEN f.status = 'settled' THEN f.fee_msat "
			    "ELSE 0 END), "
			    "SUM(f.status != 'settled') "
			    "FROM forwards f JOIN prune_chunk p USING "
			    "(in_channel, in_htlc_id) "
			    "WHERE f.out_channel IS NOT NULL "
			    "GROUP BY 1, 2 "
			    "ON CONFLICT(day, channel, direction) DO UPDATE SET "
			    "settled = settled + excluded.settled, "
			    "in_msat = in_msat + excluded.in_msat, "
			    "out_msat = out_msat + excluded.out_msat, "
			    "fee_msat = fee_msat + excluded.fee_msat, "
			    "failed = failed + excluded.failed;"
			    "INSERT INTO forward_daily (day, channel, "
			    "direction, settled, in_msat, out_msat, fee_msat, "
			    "failed) "
			    "SELECT f.received_time / 86400 * 86400, "
			    "f.in_channel, 1, "
			    "SUM(f.status = 'settled'), "
			    "SUM(CASE WHEN f.status = 'settled' THEN f.in_msat "
			    "ELSE 0 END), "
			    "SUM(CASE WHEN f.status = 'settled' THEN f.out_msat "
			    "ELSE 0 END), "
			    "SUM(CASE WHEN f.status = 'settled' THEN f.fee_msat "
			    "ELSE 0 END), "
			    "SUM(f.status != 'settled') "
			    "FROM forwards f JOIN prune_chunk p USING "
			    "(in_channel, in_htlc_id) GROUP BY 1, 2 "
			    "ON CONFLICT(day, channel, direction) DO UPDATE SET "
			    "settled = settled + excluded.settled, "
			    "in_msat = in_msat + excluded.in_msat, "
			    "out_msat = out_msat + excluded.out_msat, "
			    "fee_msat = fee_msat + excluded.fee_msat, "
			    "failed = failed + excluded.failed;"
			    "DELETE FROM forwards WHERE (in_channel, "
			    "in_htlc_id) IN (SELECT in_channel, in_htlc_id "
			    "FROM prune_chunk);",
			    err))
			goto fail;
		if (!store_commit(r->db, err))
			return false;
		*pruned += (uint64_t)changes;
	}
fail:
	store_rollback(r->db);
	return false;
}

/* ---- statistics ----
 *
 * A forward is either still raw or rolled into its day (pruning deletes
 * what it rolls up, in the same transaction), so the two never overlap:
 * each window adds the raw rows received in it and every rolled day that
 * reaches into it (a partly covered day counts whole: reports never
 * under-count). */

#define DAY_SEC 86400ULL
/* BOLT 4 fee_insufficient (UPDATE|12): the fee controller's signal that a
 * fee is too low for what senders expect. */
#define WIRE_FEE_INSUFFICIENT 0x100C

struct fwd_entry {
	struct fwd_chan_stats pub;
	uint64_t chan_since; /* the per-channel window's start */
	/* Daily msat per day: raw in, raw out, rolled in, rolled out (each
	 * n_days long); turned into the public sat arrays at the end. */
	uint64_t *daily;
};

struct fwd_stats {
	struct fwd_stats_spec spec;
	size_t nwin;	    /* spec.nwin, plus the per-channel window */
	uint64_t only_key;  /* spec.only_scid's key, 0: every channel */
	uint64_t min_since; /* start of the widest window */
	uint64_t today;	    /* day number of spec.now_sec */
	struct u64map *by_key; /* scid_key -> struct fwd_entry */
	struct fwd_entry **entries;
	size_t n, cap;
	struct fwd_entry zero;
};

/* The raw rows a pass reads: what no window can use ('offered': still in
 * flight) is left out. */
#define STATS_RAW_SQL                                                          \
	"SELECT in_channel, out_channel, status, failcode, received_time, "    \
	"in_msat, out_msat, fee_msat, hold_ms FROM forwards WHERE status != "  \
	"'offered'"
static const char stats_raw_all_sql[] = STATS_RAW_SQL;
static const char stats_raw_one_sql[] =
	STATS_RAW_SQL " AND (in_channel = ?1 OR out_channel = ?1) AND "
		      "received_time >= ?2";
#define STATS_ROLLED_SQL                                                       \
	"SELECT channel, direction, day, settled, in_msat, out_msat, "         \
	"fee_msat, failed FROM forward_daily"
static const char stats_rolled_all_sql[] = STATS_ROLLED_SQL;
static const char stats_rolled_one_sql[] =
	STATS_ROLLED_SQL " WHERE channel = ?1 AND day >= ?2";

/* The entry of @scid, created on first use; NULL for a channel the
 * statistics do not cover (or no channel). */
static struct fwd_entry *stats_entry(struct fwd_stats *s, const char *scid)
{
	uint64_t k = scid_key(scid);
	struct fwd_entry *e;

	if (!k || (s->only_key && k != s->only_key))
		return NULL;
	e = u64map_get(s->by_key, k);
	if (e)
		return e;
	e = xzalloc(sizeof(*e));
	e->chan_since = s->spec.chan_since
				? s->spec.chan_since(scid, s->spec.chan_since_arg)
				: UINT64_MAX;
	if (s->spec.n_days)
		e->daily = xzalloc(sizeof(*e->daily) * 4 * s->spec.n_days);
	u64map_put(s->by_key, k, e);
	xgrow(&s->entries, &s->cap, s->n + 1, sizeof(*s->entries));
	s->entries[s->n++] = e;
	return e;
}

/* Where window @w of @e starts. */
static uint64_t stats_since(const struct fwd_stats *s,
			    const struct fwd_entry *e, size_t w)
{
	return w < s->spec.nwin ? s->spec.since_sec[w] : e->chan_since;
}

/* Index of the daily bucket of @t (seconds or a day start), or -1. */
static int stats_bucket(const struct fwd_stats *s, uint64_t t)
{
	uint64_t d = t / DAY_SEC;

	if (d > s->today || s->today - d >= s->spec.n_days)
		return -1;
	return (int)(s->today - d);
}

static void stats_raw_out(struct fwd_stats *s, struct fwd_entry *e,
			  sqlite3_stmt *st, const char *status, uint64_t t,
			  double in_value_ppm)
{
	bool settled = !strcmp(status, "settled");
	bool local = !strcmp(status, "local_failed");
	bool fee_fail = !settled &&
			sqlite3_column_int64(st, 3) == WIRE_FEE_INSUFFICIENT;
	uint64_t out = (uint64_t)sqlite3_column_int64(st, 6);
	uint64_t fee = (uint64_t)sqlite3_column_int64(st, 7);
	bool has_hold = sqlite3_column_type(st, 8) != SQLITE_NULL;
	uint64_t hold = (uint64_t)sqlite3_column_int64(st, 8);
	int b;

	for (size_t w = 0; w < s->nwin; w++) {
		struct fwd_totals *x = &e->pub.win[w];
		if (t < stats_since(s, e, w))
			continue;
		x->failed_out += local;
		x->fee_failures += fee_fail;
		if (!settled)
			continue;
		x->out_msat += out;
		x->fee_msat += fee;
		x->in_credit_msat += (uint64_t)((double)out * in_value_ppm / 1e6);
		x->out_count++;
		if (t > x->last_out_sec)
			x->last_out_sec = t;
		if (has_hold) {
			x->hold_count++;
			x->hold_ms_sum += hold;
			x->hold_ms_sq_sum += (double)hold * (double)hold;
		}
	}
	if (settled && (b = stats_bucket(s, t)) >= 0)
		e->daily[s->spec.n_days + (size_t)b] += out;
}

static void stats_raw_in(struct fwd_stats *s, struct fwd_entry *e,
			 sqlite3_stmt *st, const char *status, uint64_t t)
{
	uint64_t in = (uint64_t)sqlite3_column_int64(st, 5);
	uint64_t fee = (uint64_t)sqlite3_column_int64(st, 7);
	int b;

	if (strcmp(status, "settled"))
		return;
	for (size_t w = 0; w < s->nwin; w++) {
		struct fwd_totals *x = &e->pub.win[w];
		if (t < stats_since(s, e, w))
			continue;
		x->in_msat += in;
		x->in_fee_msat += fee;
		x->in_count++;
		if (t > x->last_in_sec)
			x->last_in_sec = t;
	}
	if ((b = stats_bucket(s, t)) >= 0)
		e->daily[(size_t)b] += in;
}

static void stats_rolled(struct fwd_stats *s, struct fwd_entry *e,
			 sqlite3_stmt *st)
{
	bool out_side = sqlite3_column_int(st, 1) == 0;
	uint64_t day = (uint64_t)sqlite3_column_int64(st, 2);
	uint64_t settled = (uint64_t)sqlite3_column_int64(st, 3);
	uint64_t in = (uint64_t)sqlite3_column_int64(st, 4);
	uint64_t out = (uint64_t)sqlite3_column_int64(st, 5);
	uint64_t fee = (uint64_t)sqlite3_column_int64(st, 6);
	uint64_t failed = (uint64_t)sqlite3_column_int64(st, 7);
	uint64_t *last = out_side ? &e->pub.rolled_last_out_day
				  : &e->pub.rolled_last_in_day;
	size_t n = s->spec.n_days;
	int b;

	for (size_t w = 0; w < s->nwin; w++) {
		struct fwd_totals *x = &e->pub.win[w];
		uint64_t since = stats_since(s, e, w);
		/* A day reaching into the window counts whole. */
		if (since == UINT64_MAX || day < since / DAY_SEC * DAY_SEC)
			continue;
		if (out_side) {
			x->out_count += settled;
			x->out_msat += out;
			x->fee_msat += fee;
			x->failed_out += failed;
		} else {
			x->in_count += settled;
			x->in_msat += in;
			x->in_fee_msat += fee;
		}
	}
	if (settled > 0 && day > *last)
		*last = day;
	if ((b = stats_bucket(s, day)) >= 0) {
		if (out_side)
			e->daily[3 * n + (size_t)b] += out;
		else
			e->daily[2 * n + (size_t)b] += in;
	}
}

/* One raw forward: it counts for its incoming and its outgoing channel. */
static void stats_raw_row(struct fwd_stats *s, sqlite3_stmt *st)
{
	const char *in = (const char *)sqlite3_column_text(st, 0);
	const char *out = (const char *)sqlite3_column_text(st, 1);
	const char *status = (const char *)sqlite3_column_text(st, 2);
	uint64_t t = (uint64_t)sqlite3_column_int64(st, 4);
	struct fwd_entry *e;

	if (!status)
		return;
	if ((e = stats_entry(s, in)) != NULL)
		stats_raw_in(s, e, st, status, t);
	if ((e = stats_entry(s, out)) != NULL) {
		double in_value = 0;
		if (s->spec.in_value_ppm && in && !strcmp(status, "settled"))
			in_value = s->spec.in_value_ppm(in, s->spec.in_value_arg);
		stats_raw_out(s, e, st, status, t, in_value);
	}
}

static void stats_rolled_row(struct fwd_stats *s, sqlite3_stmt *st)
{
	struct fwd_entry *e =
		stats_entry(s, (const char *)sqlite3_column_text(st, 0));

	if (e)
		stats_rolled(s, e, st);
}

static bool stats_pass(struct fwd_stats *s, struct revenue *r, bool rolled,
		       char **err)
{
	const char *sql =
		rolled ? (s->only_key ? stats_rolled_one_sql
				      : stats_rolled_all_sql)
		       : (s->only_key ? stats_raw_one_sql : stats_raw_all_sql);
	sqlite3_stmt *st = store_stmt(r->db, sql, err);
	int rc;

	if (!st)
		return false;
	if (s->only_key) {
		sqlite3_bind_text(st, 1, s->spec.only_scid, -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2,
				   (sqlite3_int64)(rolled ? s->min_since /
								DAY_SEC *
								DAY_SEC
							  : s->min_since));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rolled)
			stats_rolled_row(s, st);
		else
			stats_raw_row(s, st);
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		*err = xfmt("forward statistics: %s", store_errmsg(r->db));
		return false;
	}
	return true;
}

bool forwards_stats_new(struct revenue *r, const struct fwd_stats_spec *spec,
			struct fwd_stats **out, char **err)
{
	struct fwd_stats *s = xzalloc(sizeof(*s));
	size_t n = spec->n_days;

	*out = NULL;
	s->nwin = spec->nwin + (spec->chan_since != NULL);
	if (!s->nwin || s->nwin > FWD_STATS_MAX_WIN ||
	    n > FWD_STATS_MAX_DAYS) {
		*err = xfmt("forward statistics: 1 to %d windows and at most "
			    "%d days",
			    FWD_STATS_MAX_WIN, FWD_STATS_MAX_DAYS);
		free(s);
		return false;
	}
	s->spec = *spec;
	s->today = spec->now_sec / DAY_SEC;
	s->min_since = UINT64_MAX;
	for (size_t w = 0; w < spec->nwin; w++)
		if (spec->since_sec[w] < s->min_since)
			s->min_since = spec->since_sec[w];
	/* The daily buckets read as far back as their first day. */
	if (n && (s->today + 1 - n) * DAY_SEC < s->min_since)
		s->min_since = (s->today + 1 - n) * DAY_SEC;
	if (spec->only_scid) {
		s->only_key = scid_key(spec->only_scid);
		if (!s->only_key) {
			*err = xfmt("forward statistics: invalid scid '%s'",
				    spec->only_scid);
			free(s);
			return false;
		}
		if (spec->chan_since) {
			uint64_t since = spec->chan_since(
				spec->only_scid, spec->chan_since_arg);
			if (since < s->min_since)
				s->min_since = since;
		}
	}
	s->by_key = u64map_new();
	s->zero.daily = xzalloc(sizeof(*s->zero.daily) * 2 * (n + 1));
	s->zero.pub.daily_in_sat = s->zero.daily;
	s->zero.pub.daily_out_sat = s->zero.daily + n;
	if (!stats_pass(s, r, false, err) || !stats_pass(s, r, true, err)) {
		forwards_stats_free(s);
		return false;
	}
	/* Sat per day, as each source rounds it. */
	for (size_t i = 0; i < s->n; i++) {
		struct fwd_entry *e = s->entries[i];
		for (size_t b = 0; b < n; b++) {
			e->daily[b] = e->daily[b] / 1000 +
				      e->daily[2 * n + b] / 1000;
			e->daily[n + b] = e->daily[n + b] / 1000 +
					  e->daily[3 * n + b] / 1000;
		}
		e->pub.daily_in_sat = e->daily;
		e->pub.daily_out_sat = e->daily ? e->daily + n : NULL;
	}
	*out = s;
	return true;
}

void forwards_stats_free(struct fwd_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->entries[i]->daily);
		free(s->entries[i]);
	}
	free(s->entries);
	free(s->zero.daily);
	u64map_free(s->by_key);
	free(s);
}

const struct fwd_chan_stats *forwards_stats_chan(const struct fwd_stats *s,
						 const char *scid)
{
	uint64_t k = scid_key(scid);
	const struct fwd_entry *e = k ? u64map_get(s->by_key, k) : NULL;

	return e ? &e->pub : &s->zero.pub;
}

int forwards_stats_window(const struct fwd_stats *s, uint64_t since_sec)
{
	for (size_t w = 0; w < s->spec.nwin; w++)
		if (s->spec.since_sec[w] == since_sec)
			return (int)w;
	return -1;
}

static int64_t count_of(struct revenue *r, const char *sql)
{
	char *err = NULL;
	sqlite3_stmt *st = store_stmt(r->db, sql, &err);
	int64_t n = -1;

	if (!st) {
		free(err);
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	store_done(st);
	return n;
}

int64_t forwards_count_rows(struct revenue *r)
{
	return count_of(r, "SELECT COUNT(*) FROM forwards");
}

int64_t forwards_count_rolled_days(struct revenue *r)
{
	return count_of(r, "SELECT COUNT(DISTINCT day) FROM forward_daily");
}

/* ---- aggregates ---- */

/* Grouped by pair rather than by each side: one pass over the table (a
 * UNION of the in and the out side measured three times slower on a
 * million forwards); each row then counts for both its channels. */
#define HOURLY_SQL                                                             \
	"SELECT in_channel, out_channel, received_time / 3600, COUNT(*) "      \
	"FROM forwards WHERE status = 'settled' AND received_time >= ?1"
static const char hourly_all_sql[] = HOURLY_SQL " GROUP BY 1, 2, 3";
static const char hourly_one_sql[] =
	HOURLY_SQL " AND (in_channel = ?2 OR out_channel = ?2) "
		   "GROUP BY 1, 2, 3";

bool forwards_hourly(struct revenue *r, uint64_t since_sec,
		     const char *only_scid,
		     void (*cb)(const char *in_scid, const char *out_scid,
				uint64_t hour_sec, uint64_t n, void *arg),
		     void *arg, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db, only_scid ? hourly_one_sql : hourly_all_sql, err);
	int rc;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since_sec);
	if (only_scid)
		sqlite3_bind_text(st, 2, only_scid, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t t = (uint64_t)sqlite3_column_int64(st, 2) * 3600;
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 3);
		cb((const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1), t, n, arg);
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		*err = xfmt("temporal profile: %s", store_errmsg(r->db));
		return false;
	}
	return true;
}

bool forwards_top_routes(struct revenue *r, uint64_t since_sec,
			 unsigned min_forwards, unsigned limit,
			 void (*cb)(const char *in_scid, const char *out_scid,
				    int64_t fee_msat, uint64_t n, void *arg),
			 void *arg, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT in_channel, out_channel, SUM(fee_msat), COUNT(*) "
	    "FROM forwards WHERE status = 'settled' AND out_channel IS NOT "
	    "NULL AND received_time >= ?1 GROUP BY in_channel, out_channel "
	    "HAVING COUNT(*) >= ?2 ORDER BY SUM(fee_msat) DESC, COUNT(*) "
	    "DESC, in_channel, out_channel LIMIT ?3",
	    err);
	int rc;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since_sec);
	sqlite3_bind_int(st, 2, (int)min_forwards);
	sqlite3_bind_int(st, 3, (int)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1),
		   sqlite3_column_int64(st, 2),
		   (uint64_t)sqlite3_column_int64(st, 3), arg);
	store_done(st);
	if (rc != SQLITE_DONE) {
		*err = xfmt("top routes: %s", store_errmsg(r->db));
		return false;
	}
	return true;
}

/* ---- per UTC day (revenue-forward-history) ---- */

/* One query adds its rows (day, settled, in, out, fee) or, with @failed,
 * (day, failed) to @days. */
static bool add_rows(struct store *db, const char *sql, const char *scid,
		     uint64_t since, uint64_t until, struct fwd_day *days,
		     int view, char **err)
{
	sqlite3_stmt *st = store_stmt(db, sql, err);
	int rc;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)until);
	if (scid)
		sqlite3_bind_text(st, 3, scid, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t d = sqlite3_column_int64(st, 0);
		struct fwd_day *row;

		if (d < (int64_t)since || d >= (int64_t)until)
			continue;
		row = &days[(d - (int64_t)since) / (int64_t)DAY_SEC];
		switch (view) {
		case 0: /* exit */
			row->out_count += (uint64_t)sqlite3_column_int64(st, 1);
			row->in_msat += sqlite3_column_int64(st, 2);
			row->out_msat += sqlite3_column_int64(st, 3);
			row->fee_msat += sqlite3_column_int64(st, 4);
			break;
		case 1: /* entry */
			row->in_count += (uint64_t)sqlite3_column_int64(st, 1);
			row->entry_in_msat += sqlite3_column_int64(st, 2);
			row->sourced_fee_msat += sqlite3_column_int64(st, 4);
			row->failed += (uint64_t)sqlite3_column_int64(st, 5);
			break;
		}
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		*err = xfmt("forward history: %s", store_errmsg(db));
		return false;
	}
	return true;
}

#define RAW_COLS                                                               \
	"SELECT received_time / 86400 * 86400 AS d, "                          \
	"SUM(status = 'settled'), "                                            \
	"SUM(CASE WHEN status = 'settled' THEN in_msat ELSE 0 END), "          \
	"SUM(CASE WHEN status = 'settled' THEN out_msat ELSE 0 END), "         \
	"SUM(CASE WHEN status = 'settled' THEN fee_msat ELSE 0 END), "         \
	"SUM(status NOT IN ('settled', 'offered')) FROM forwards "             \
	"WHERE received_time >= ?1 AND received_time < ?2 "
#define ROLLED_COLS                                                            \
	"SELECT day, settled, in_msat, out_msat, fee_msat, failed FROM "       \
	"forward_daily WHERE day >= ?1 AND day < ?2 "

bool forwards_days_add(struct revenue *r, const char *scid, int view,
		       uint64_t since, uint64_t until, struct fwd_day *days,
		       char **err)
{
	static const char *const sql[2][2][2] = {
	    /* [view][one channel][rolled] */
	    {{RAW_COLS "AND out_channel IS NOT NULL GROUP BY d",
	      ROLLED_COLS "AND direction = 0"},
	     {RAW_COLS "AND out_channel = ?3 GROUP BY d",
	      ROLLED_COLS "AND direction = 0 AND channel = ?3"}},
	    {{RAW_COLS "GROUP BY d", ROLLED_COLS "AND direction = 1"},
	     {RAW_COLS "AND in_channel = ?3 GROUP BY d",
	      ROLLED_COLS "AND direction = 1 AND channel = ?3"}},
	};

	return add_rows(r->db, sql[view][scid != NULL][0], scid, since, until,
			days, view, err) &&
	       add_rows(r->db, sql[view][scid != NULL][1], scid, since, until,
			days, view, err);
}
