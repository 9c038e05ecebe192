/* Peer reputation, uptime and HTLC hold statistics; see peers.h. */
#include "plugins/revenue-ops/store/peers.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/u64map.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/store/forwards.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool insert_event(struct revenue *r, const char *peer_id,
			 const char *event, uint64_t now, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "INSERT INTO peer_events (peer_id, event, timestamp) VALUES "
	    "(?1, ?2, ?3)",
	    err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	return store_step_done(r->db, st, "peer_events", err);
}

bool peers_record_event(struct revenue *r, const char *peer_id,
			const char *event, uint64_t now, char **err)
{
	if (!store_begin(r->db, err))
		return false;
	if (!insert_event(r, peer_id, event, now, err)) {
		store_rollback(r->db);
		return false;
	}
	return store_commit(r->db, err);
}

bool peers_snapshot(struct revenue *r, const struct node_view *v, uint64_t now,
		    char **err)
{
	sqlite3_stmt *st;

	for (size_t i = 0; i < v->nchans; i++) {
		const struct chan_info *ci = &v->chans[i];
		bool recent, dup = false;
		if (!ci->peer_connected)
			continue;
		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(v->chans[j].peer_id, ci->peer_id);
		if (dup)
			continue;
		st = store_stmt(r->db,
				"SELECT 1 FROM peer_events WHERE peer_id = ?1 "
				"AND timestamp >= ?2 LIMIT 1",
				err);
		if (!st)
			return false;
		sqlite3_bind_text(st, 1, ci->peer_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(
		    st, 2, (sqlite3_int64)(now > 3600 ? now - 3600 : 0));
		recent = sqlite3_step(st) == SQLITE_ROW;
		store_done(st);
		if (!recent &&
		    !insert_event(r, ci->peer_id, "snapshot", now, err))
			return false;
	}
	return true;
}

static enum reputation_conn_event_type event_type(const char *e)
{
	if (e && !strcmp(e, "disconnected"))
		return REPUTATION_DISCONNECTED;
	if (e && !strcmp(e, "snapshot"))
		return REPUTATION_SNAPSHOT;
	return REPUTATION_CONNECTED;
}

bool peers_uptime(struct revenue *r, const char *peer_id, bool connected_now,
		  uint64_t window_start, uint64_t now,
		  struct reputation_uptime *out, char **err)
{
	/* The last event before the window sets the state at its start;
	 * then every event inside it. */
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT event, timestamp FROM ("
	    " SELECT event, timestamp, id FROM peer_events WHERE peer_id = "
	    " ?1 AND timestamp < ?2 ORDER BY timestamp DESC, id DESC "
	    " LIMIT 1) "
	    "UNION ALL SELECT event, timestamp FROM ("
	    " SELECT event, timestamp, id FROM peer_events WHERE peer_id = "
	    " ?1 AND timestamp >= ?2 AND timestamp <= ?3 ORDER BY "
	    " timestamp, id)",
	    err);
	struct reputation_conn_event *ev = NULL;
	size_t n = 0, cap = 0;
	const char *e;

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)window_start);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	while (sqlite3_step(st) == SQLITE_ROW) {
		xgrow(&ev, &cap, n + 1, sizeof(*ev));
		ev[n].type =
		    event_type((const char *)sqlite3_column_text(st, 0));
		ev[n].time_sec = (uint64_t)sqlite3_column_int64(st, 1);
		/* Equal timestamps keep insertion order; the engine wants a
		 * non-decreasing sequence. */
		if (n && ev[n].time_sec < ev[n - 1].time_sec)
			ev[n].time_sec = ev[n - 1].time_sec;
		n++;
	}
	store_done(st);
	e = reputation_uptime(ev, n, connected_now, window_start, now, out);
	free(ev);
	if (e) {
		*err = xfmt("uptime of %s: %s", peer_id, e);
		return false;
	}
	return true;
}

bool peers_reputation_get(struct revenue *r, const char *peer_id,
			  struct reputation_state *out, bool *found, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT successes, failures, last_update FROM peer_reputation "
	    "WHERE peer_id = ?1",
	    err);
	*found = false;
	memset(out, 0, sizeof(*out));
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->successes = sqlite3_column_double(st, 0);
		out->failures = sqlite3_column_double(st, 1);
		out->last_update_sec = (uint64_t)sqlite3_column_int64(st, 2);
		*found = true;
	}
	store_done(st);
	return true;
}

static bool reputation_put(struct revenue *r, const char *peer_id,
			   const struct reputation_state *s, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "INSERT INTO peer_reputation (peer_id, successes, failures, "
	    "last_update) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(peer_id) DO "
	    "UPDATE SET successes = ?2, failures = ?3, last_update = ?4",
	    err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, s->successes);
	sqlite3_bind_double(st, 3, s->failures);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)s->last_update_sec);
	return store_step_done(r->db, st, "peer_reputation", err);
}

static bool cursor_rw(struct revenue *r, bool write, uint64_t *v, char **err)
{
	sqlite3_stmt *st;
	if (!write) {
		st = store_stmt(r->db,
				"SELECT value FROM sync_state WHERE key = "
				"'reputation_cursor'",
				err);
		if (!st)
			return false;
		*v = sqlite3_step(st) == SQLITE_ROW
			 ? (uint64_t)sqlite3_column_int64(st, 0)
			 : 0;
		store_done(st);
		return true;
	}
	st = store_stmt(r->db,
			"INSERT INTO sync_state (key, value) VALUES "
			"('reputation_cursor', ?1) ON CONFLICT(key) DO UPDATE "
			"SET value = ?1",
			err);
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)*v);
	return store_step_done(r->db, st, "sync_state", err);
}

struct rep_peer {
	const char *peer_id;
	struct reputation_state st;
	bool loaded, dirty;
};

bool peers_reputation_update(struct revenue *r, const struct node_view *v,
			     const struct reputation_params *p, uint64_t now,
			     uint64_t *counted, char **err)
{
	struct u64map *by_scid = u64map_new();
	struct rep_peer *peers = xzalloc(sizeof(*peers) * (v->nchans + 1));
	size_t npeers = 0;
	uint64_t cursor, horizon = now;
	sqlite3_stmt *st;
	bool ok = false;

	*counted = 0;
	/* Channel -> its peer's slot (several channels share a peer). */
	for (size_t i = 0; i < v->nchans; i++) {
		uint64_t k = scid_key(v->chans[i].scid);
		size_t j;
		for (j = 0; j < npeers; j++)
			if (!strcmp(peers[j].peer_id, v->chans[i].peer_id))
				break;
		if (j == npeers)
			peers[npeers++].peer_id = v->chans[i].peer_id;
		if (k)
			u64map_put(by_scid, k, &peers[j]);
	}
	if (!cursor_rw(r, false, &cursor, err))
		goto out;
	/* A first run counts the recent past only (a week), not the whole
	 * history at full weight: it would decay away anyway. */
	if (cursor == 0)
		cursor = now > 7 * 86400 ? now - 7 * 86400 : 0;
	/* Forwards still in flight keep their place: the cursor stops at
	 * the oldest one (ignoring HTLCs stuck for more than a day). */
	st =
	    store_stmt(r->db,
		       "SELECT MIN(received_time) FROM forwards WHERE status = "
		       "'offered' AND received_time >= ?1",
		       err);
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1,
			   (sqlite3_int64)(now > 86400 ? now - 86400 : 0));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		uint64_t oldest = (uint64_t)sqlite3_column_int64(st, 0);
		if (oldest < horizon)
			horizon = oldest;
	}
	store_done(st);
	if (horizon <= cursor) {
		ok = true;
		goto out;
	}
	st =
	    store_stmt(r->db,
		       "SELECT in_channel, status, received_time FROM forwards "
		       "WHERE received_time >= ?1 AND received_time < ?2 AND "
		       "status IN ('settled', 'failed') ORDER BY received_time",
		       err);
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cursor);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)horizon);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *in = (const char *)sqlite3_column_text(st, 0);
		const char *status = (const char *)sqlite3_column_text(st, 1);
		uint64_t t = (uint64_t)sqlite3_column_int64(st, 2);
		struct rep_peer *rp =
		    u64map_get(by_scid, scid_key(in));
		bool found;
		if (!rp)
			continue;
		if (!rp->loaded) {
			if (!peers_reputation_get(r, rp->peer_id, &rp->st,
						  &found, err)) {
				store_done(st);
				goto out;
			}
			if (!found)
				reputation_init(&rp->st, t);
			rp->loaded = true;
		}
		reputation_record(p, &rp->st, !strcmp(status, "settled"), t);
		rp->dirty = true;
		(*counted)++;
	}
	store_done(st);
	for (size_t i = 0; i < npeers; i++) {
		if (!peers[i].dirty)
			continue;
		if (!reputation_put(r, peers[i].peer_id, &peers[i].st, err))
			goto out;
	}
	if (!cursor_rw(r, true, &horizon, err))
		goto out;
	/* Forget peers whose evidence has decayed to nothing. */
	st = store_stmt(r->db,
			"SELECT peer_id, successes, failures, last_update FROM "
			"peer_reputation",
			err);
	if (!st)
		goto out;
	{
		char **gone = NULL;
		size_t ngone = 0, capgone = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct reputation_state s = {
			    .successes = sqlite3_column_double(st, 1),
			    .failures = sqlite3_column_double(st, 2),
			    .last_update_sec =
				(uint64_t)sqlite3_column_int64(st, 3),
			};
			if (reputation_prunable(p, &s, now)) {
				xgrow(&gone, &capgone, ngone + 1,
				      sizeof(*gone));
				gone[ngone++] = xstrdup(
				    (const char *)sqlite3_column_text(st, 0));
			}
		}
		store_done(st);
		ok = true;
		for (size_t i = 0; i < ngone; i++) {
			if (ok) {
				st = store_stmt(r->db,
						"DELETE FROM peer_reputation "
						"WHERE peer_id = ?1",
						err);
				if (!st) {
					ok = false;
				} else {
					sqlite3_bind_text(st, 1, gone[i], -1,
							  SQLITE_TRANSIENT);
					ok = store_step_done(r->db, st, "peer_reputation",
						       err);
				}
			}
			free(gone[i]);
		}
		free(gone);
	}
out:
	u64map_free(by_scid);
	free(peers);
	return ok;
}

bool peers_prune_events(struct revenue *r, uint64_t cutoff, uint64_t *deleted,
			char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "DELETE FROM peer_events WHERE timestamp < ?1 AND id NOT IN "
	    "(SELECT MAX(id) FROM peer_events GROUP BY peer_id)",
	    err);
	*deleted = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
	if (!store_step_done(r->db, st, "peer_events", err))
		return false;
	*deleted = (uint64_t)sqlite3_changes(store_db(r->db));
	return true;
}

void peers_hold_stats(const struct fwd_stats *fs, size_t w,
		      const char *const *scids, size_t nscids, double *avg_sec,
		      double *std_sec, uint64_t *n)
{
	double sum = 0, sum2 = 0;

	*n = 0;
	*avg_sec = *std_sec = 0;
	for (size_t i = 0; i < nscids; i++) {
		const struct fwd_totals *t =
		    &forwards_stats_chan(fs, scids[i])->win[w];
		*n += t->hold_count;
		sum += (double)t->hold_ms_sum / 1000.0;
		sum2 += t->hold_ms_sq_sum / 1e6;
	}
	if (*n) {
		double mean = sum / (double)*n;
		double var = sum2 / (double)*n - mean * mean;
		*avg_sec = mean;
		*std_sec = var > 0 ? sqrt(var) : 0;
	}
}

struct peer_ref {
	const char *id;
	size_t idx;
};

static int peer_ref_cmp(const void *a, const void *b)
{
	const struct peer_ref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void peers_group(const char *const *peer_ids, size_t n, size_t *first,
		 size_t *next)
{
	struct peer_ref *v = xmalloc(sizeof(*v) * (n + 1));

	/* Sorted by (id, index), each peer's channels are adjacent and in
	 * index order. */
	for (size_t i = 0; i < n; i++)
		v[i] = (struct peer_ref){peer_ids[i], i};
	qsort(v, n, sizeof(*v), peer_ref_cmp);
	for (size_t i = 0; i < n; i++) {
		bool same_prev = i > 0 && !strcmp(v[i - 1].id, v[i].id);
		bool same_next = i + 1 < n && !strcmp(v[i + 1].id, v[i].id);
		first[v[i].idx] = same_prev ? first[v[i - 1].idx] : v[i].idx;
		next[v[i].idx] = same_next ? v[i + 1].idx : n;
	}
	free(v);
}
