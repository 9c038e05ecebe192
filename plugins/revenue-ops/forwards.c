/* Forward store and its reconciliation with listforwards; see forwards.h.
 *
 * A forward is identified by (in_channel, in_htlc_id), which every
 * lightningd version reports; created_index/updated_index (v23.11+) drive
 * incremental pagination, and the cursors are stored so a restart resumes
 * where it stopped. Rows arrive by the page and are upserted one page per
 * transaction, so a million forwards hydrate without holding them all in
 * memory. */
#include "plugins/revenue-ops/forwards.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/revenue.h"
#include <math.h>
#include <string.h>

#define PAGE_LIMIT 5000

struct sync_waiter {
	void (*done)(struct revenue *r, bool ok, void *arg);
	void *arg;
};

struct forwards_sync_state {
	bool running, again;
	bool ok;
	int phase; /* 0: by created, 1: by updated */
	uint64_t created_next, updated_next;
	uint64_t rows;
	struct sync_waiter *waiters;
	size_t nwaiters, capwaiters;
	/* Waiters registered during a run wait for the next run. */
	struct sync_waiter *later;
	size_t nlater, caplater;
};

static struct forwards_sync_state *S(struct revenue *r)
{
	if (!r->fwd_sync)
		r->fwd_sync = xzalloc(sizeof(struct forwards_sync_state));
	return r->fwd_sync;
}

void forwards_state_free(struct revenue *r)
{
	struct forwards_sync_state *s = r->fwd_sync;
	if (!s)
		return;
	free(s->waiters);
	free(s->later);
	free(s);
	r->fwd_sync = NULL;
}

bool forwards_syncing(const struct revenue *r)
{
	return r->fwd_sync && r->fwd_sync->running;
}

static bool cursor_get(struct revenue *r, const char *key, uint64_t *v,
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

static bool cursor_set(struct revenue *r, const char *key, uint64_t v,
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
	if (sqlite3_step(st) != SQLITE_DONE) {
		*err = xfmt("sync_state: %s", store_errmsg(r->db));
		store_done(st);
		return false;
	}
	store_done(st);
	return true;
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
	if (sqlite3_step(st) != SQLITE_DONE) {
		*err = xfmt("storing forward: %s", store_errmsg(r->db));
		store_done(st);
		return false;
	}
	store_done(st);
	return true;
}

static void finish(struct revenue *r, bool ok);
static void start_phase(struct revenue *r);

static bool on_page(struct rpc *rpc, const json_t *items, void *arg)
{
	struct revenue *r = arg;
	struct forwards_sync_state *s = S(r);
	char *err = NULL;
	size_t i;
	json_t *f;

	if (!store_begin(r->db, &err))
		goto fail;
	json_array_foreach(items, i, f) {
		if (!upsert(r, f, &err)) {
			store_rollback(r->db);
			goto fail;
		}
	}
	if (!store_commit(r->db, &err))
		goto fail;
	s->rows += json_array_size(items);
	return true;
fail:
	plugin_log(r->plugin, PLOG_WARN,
		   "forward sync: %s (will retry next cycle)", err);
	free(err);
	s->ok = false;
	(void)rpc;
	return false;
}

static void on_pages_done(struct rpc *rpc, const struct rpc_reply *error,
			  uint64_t next, void *arg)
{
	struct revenue *r = arg;
	struct forwards_sync_state *s = S(r);
	char *err = NULL;
	const char *key = s->phase == 0 ? "forwards_created_next"
					: "forwards_updated_next";

	if (error) {
		char *e = rpc_reply_errtext(error);
		plugin_log(r->plugin, PLOG_WARN,
			   "forward sync: %s (will retry next cycle)", e);
		free(e);
		finish(r, false);
		return;
	}
	if (!s->ok) {
		finish(r, false);
		return;
	}
	if (next && !cursor_set(r, key, next, &err)) {
		plugin_log(r->plugin, PLOG_WARN, "forward sync: %s", err);
		free(err);
		finish(r, false);
		return;
	}
	if (s->phase == 0) {
		s->phase = 1;
		start_phase(r);
		return;
	}
	finish(r, true);
	(void)rpc;
}

static void start_phase(struct revenue *r)
{
	struct forwards_sync_state *s = S(r);
	char *err = NULL;
	uint64_t start;
	const char *key = s->phase == 0 ? "forwards_created_next"
					: "forwards_updated_next";

	if (!cursor_get(r, key, &start, &err)) {
		plugin_log(r->plugin, PLOG_WARN, "forward sync: %s", err);
		free(err);
		finish(r, false);
		return;
	}
	rpc_paginate(plugin_rpc(r->plugin), NULL, "listforwards", "forwards",
		     s->phase == 0 ? "created" : "updated", start, PAGE_LIMIT,
		     NULL, on_page, on_pages_done, r);
}

static void begin(struct revenue *r)
{
	struct forwards_sync_state *s = S(r);

	s->running = true;
	s->again = false;
	s->ok = true;
	s->phase = 0;
	s->rows = 0;
	/* Those who asked while idle are served by this run. */
	s->waiters = s->later;
	s->nwaiters = s->nlater;
	s->capwaiters = s->caplater;
	s->later = NULL;
	s->nlater = s->caplater = 0;
	start_phase(r);
}

static void finish(struct revenue *r, bool ok)
{
	struct forwards_sync_state *s = S(r);
	struct sync_waiter *w = s->waiters;
	size_t n = s->nwaiters;

	s->running = false;
	s->waiters = NULL;
	s->nwaiters = s->capwaiters = 0;
	if (s->rows)
		plugin_log(r->plugin, PLOG_DEBUG, "forward sync: %llu rows",
			   (unsigned long long)s->rows);
	for (size_t i = 0; i < n; i++)
		if (w[i].done)
			w[i].done(r, ok, w[i].arg);
	free(w);
	if (s->again || s->nlater)
		begin(r);
}

void forwards_sync(struct revenue *r,
		   void (*done)(struct revenue *r, bool ok, void *arg),
		   void *arg)
{
	struct forwards_sync_state *s = S(r);

	xgrow(&s->later, &s->caplater, s->nlater + 1, sizeof(*s->later));
	s->later[s->nlater++] = (struct sync_waiter){done, arg};
	if (s->running) {
		s->again = true;
		return;
	}
	begin(r);
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
		if (sqlite3_step(st) != SQLITE_DONE) {
			*err = xfmt("prune: %s", store_errmsg(r->db));
			store_done(st);
			goto fail;
		}
		store_done(st);
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

bool forwards_totals(struct revenue *r, const char *scid, uint64_t since_sec,
		     struct fwd_totals *t, char **err)
{
	/* A forward is either still raw or rolled into its day (pruning
	 * deletes what it rolls up, in the same transaction), so the two
	 * never overlap: add raw rows since @since_sec and every rolled day
	 * that reaches into the window (a partly covered day counts whole:
	 * reports never under-count). */
	sqlite3_stmt *st;

	memset(t, 0, sizeof(*t));
	st = store_stmt(
		r->db,
		"SELECT "
		"SUM(CASE WHEN out_channel = ?1 AND status = 'settled' THEN "
		"out_msat ELSE 0 END), "
		"SUM(CASE WHEN in_channel = ?1 AND status = 'settled' THEN "
		"in_msat ELSE 0 END), "
		"SUM(CASE WHEN out_channel = ?1 AND status = 'settled' THEN "
		"fee_msat ELSE 0 END), "
		"SUM(out_channel = ?1 AND status = 'settled'), "
		"SUM(in_channel = ?1 AND status = 'settled'), "
		"SUM(out_channel = ?1 AND status = 'local_failed'), "
		"MAX(CASE WHEN out_channel = ?1 AND status = 'settled' THEN "
		"received_time END), "
		"SUM(CASE WHEN out_channel = ?1 AND status = 'settled' THEN "
		"COALESCE(hold_ms, 0) ELSE 0 END) "
		"FROM forwards WHERE (out_channel = ?1 OR in_channel = ?1) "
		"AND received_time >= ?2",
		err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since_sec);
	if (sqlite3_step(st) == SQLITE_ROW) {
		t->out_msat = (uint64_t)sqlite3_column_int64(st, 0);
		t->in_msat = (uint64_t)sqlite3_column_int64(st, 1);
		t->fee_msat = (uint64_t)sqlite3_column_int64(st, 2);
		t->out_count = (uint64_t)sqlite3_column_int64(st, 3);
		t->in_count = (uint64_t)sqlite3_column_int64(st, 4);
		t->failed_out = (uint64_t)sqlite3_column_int64(st, 5);
		t->last_out_sec = (uint64_t)sqlite3_column_int64(st, 6);
		t->hold_ms_sum = (uint64_t)sqlite3_column_int64(st, 7);
	}
	store_done(st);

	st = store_stmt(r->db,
			"SELECT direction, SUM(settled), SUM(in_msat), "
			"SUM(out_msat), SUM(fee_msat), SUM(failed) "
			"FROM forward_daily WHERE channel = ?1 AND day >= ?2 "
			"GROUP BY direction",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(since_sec / 86400 * 86400));
	while (sqlite3_step(st) == SQLITE_ROW) {
		int dir = sqlite3_column_int(st, 0);
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);
		if (dir == 0) {
			t->out_count += n;
			t->out_msat += (uint64_t)sqlite3_column_int64(st, 3);
			t->fee_msat += (uint64_t)sqlite3_column_int64(st, 4);
			t->failed_out += (uint64_t)sqlite3_column_int64(st, 5);
		} else {
			t->in_count += n;
			t->in_msat += (uint64_t)sqlite3_column_int64(st, 2);
		}
	}
	store_done(st);
	return true;
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

json_t *forwards_status_json(struct revenue *r)
{
	return json_pack("{s:I,s:I,s:b}", "stored",
			 (json_int_t)count_of(r, "SELECT COUNT(*) FROM forwards"),
			 "rolled_up_days",
			 (json_int_t)count_of(r, "SELECT COUNT(DISTINCT day) "
						 "FROM forward_daily"),
			 "syncing", forwards_syncing(r));
}
