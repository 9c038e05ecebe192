/* Accounting's SQL: forward totals, costs, opens and splices; see
 * acct_db.h. */
#include "plugins/revenue-ops/store/acct_db.h"
#include "common/amount.h"
#include "common/json_util.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/store/sql.h"
#include <stdio.h>
#include <string.h>

#define DAY 86400ULL

static uint64_t day_of(uint64_t sec)
{
	return sec / DAY * DAY;
}

/* ---- forwards ---- */

bool acct_db_node_fwd(struct store *db, uint64_t since, struct acct_flow *out,
		      char **err)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof(*out));
	st = store_stmt(db,
			"SELECT COALESCE(SUM(fee_msat), 0), "
			"COALESCE(SUM(out_msat), 0), COUNT(*) FROM forwards "
			"WHERE status = 'settled' AND out_channel IS NOT NULL "
			"AND received_time >= ?1",
			err);
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->fee_msat = sql_col_i64(st, 0);
		out->vol_msat = sql_col_i64(st, 1);
		out->count = (uint64_t)sql_col_i64(st, 2);
	}
	store_done(st);
	st = store_stmt(db,
			"SELECT COALESCE(SUM(fee_msat), 0), "
			"COALESCE(SUM(out_msat), 0), COALESCE(SUM(settled), 0) "
			"FROM forward_daily WHERE direction = 0 AND day >= ?1",
			err);
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)day_of(since));
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->fee_msat += sql_col_i64(st, 0);
		out->vol_msat += sql_col_i64(st, 1);
		out->count += (uint64_t)sql_col_i64(st, 2);
	}
	store_done(st);
	return true;
}

bool acct_db_daily_fees(struct store *db, uint64_t from_sec, uint64_t to_sec,
			void (*cb)(const char *scid, uint64_t day,
				   int64_t fee_msat, void *arg),
			void *arg, char **err)
{
	static const char *const sql[] = {
	    "SELECT out_channel, received_time / 86400 * 86400, "
	    "SUM(fee_msat) FROM forwards WHERE status = 'settled' AND "
	    "out_channel IS NOT NULL AND received_time >= ?1 AND "
	    "received_time < ?2 GROUP BY 1, 2",
	    "SELECT channel, day, SUM(fee_msat) FROM forward_daily WHERE "
	    "direction = 0 AND day >= ?1 AND day < ?2 GROUP BY 1, 2",
	};
	char scid[24];

	for (size_t q = 0; q < ARRAY_SIZE(sql); q++) {
		sqlite3_stmt *st = store_stmt(db, sql[q], err);
		if (!st)
			return false;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)from_sec);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)to_sec);
		while (sqlite3_step(st) == SQLITE_ROW) {
			sql_col_str(st, 0, scid, sizeof(scid));
			cb(scid, (uint64_t)sql_col_i64(st, 1),
			   sql_col_i64(st, 2), arg);
		}
		store_done(st);
	}
	return true;
}

bool acct_db_rebalance_add(struct store *db, const char *scid,
			   const uint64_t since[ACCT_NWIN],
			   int64_t cost_msat[ACCT_NWIN], char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "SELECT "
	    "SUM(CASE WHEN timestamp >= ?2 THEN cost_msat ELSE 0 END), "
	    "SUM(CASE WHEN timestamp >= ?3 THEN cost_msat ELSE 0 END), "
	    "SUM(CASE WHEN timestamp >= ?4 THEN cost_msat ELSE 0 END) "
	    "FROM rebalance_costs WHERE dest_scid = ?1",
	    err);

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	for (int w = 0; w < ACCT_NWIN; w++)
		sqlite3_bind_int64(st, 2 + w, (sqlite3_int64)since[w]);
	if (sqlite3_step(st) == SQLITE_ROW)
		for (int w = 0; w < ACCT_NWIN; w++)
			cost_msat[w] += sql_col_i64(st, w);
	store_done(st);
	return true;
}

bool acct_db_sum(struct store *db, enum acct_sum what, uint64_t since,
		 int64_t *msat, char **err)
{
	static const char *const sql[] = {
	    [ACCT_SUM_REBALANCE] = "SELECT COALESCE(SUM(cost_msat), 0) "
				   "FROM rebalance_costs WHERE timestamp "
				   ">= ?1",
	    [ACCT_SUM_CLOSURE] = "SELECT COALESCE(SUM("
				 "total_closure_cost_msat), 0) FROM "
				 "channel_closure_costs WHERE closed_at "
				 ">= ?1",
	    [ACCT_SUM_SPLICE] = "SELECT COALESCE(SUM(fee_msat), 0) FROM "
				"channel_splices WHERE timestamp >= ?1",
	    [ACCT_SUM_OPEN] = "SELECT COALESCE(SUM(open_cost_msat), 0) "
			      "FROM channel_costs WHERE opener != "
			      "'remote' AND opened_at >= ?1",
	};
	sqlite3_stmt *st = store_stmt(db, sql[what], err);

	*msat = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	if (sqlite3_step(st) == SQLITE_ROW)
		*msat = sql_col_i64(st, 0);
	store_done(st);
	return true;
}

/* ---- channel_costs ---- */

static void read_open_row(sqlite3_stmt *st, struct acct_open_row *out)
{
	char opener[12];

	out->found = true;
	sql_col_str(st, 0, out->channel_id, sizeof(out->channel_id));
	sql_col_str(st, 1, out->scid, sizeof(out->scid));
	sql_col_str(st, 2, out->peer_id, sizeof(out->peer_id));
	sql_col_str(st, 3, opener, sizeof(opener));
	out->opener = !strcmp(opener, "local")	  ? PNL_OPENER_LOCAL
		      : !strcmp(opener, "remote") ? PNL_OPENER_REMOTE
						  : PNL_OPENER_UNKNOWN;
	out->capacity_sat = (uint64_t)sql_col_i64(st, 4);
	sql_col_str(st, 5, out->funding_txid, sizeof(out->funding_txid));
	out->opened_at = (uint64_t)sql_col_i64(st, 6);
	out->open_cost_msat = sql_col_i64(st, 7);
	sql_col_str(st, 8, out->source, sizeof(out->source));
}

#define OPEN_COLS                                                              \
	"channel_id, scid, peer_id, opener, capacity_sat, funding_txid, "      \
	"opened_at, open_cost_msat, open_cost_source"

bool acct_db_open_find(struct store *db, const char *channel_id,
		       const char *scid, struct acct_open_row *out, char **err)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof(*out));
	if (channel_id && channel_id[0]) {
		st = store_stmt(db,
				"SELECT " OPEN_COLS " FROM channel_costs WHERE "
				"channel_id = ?1",
				err);
		if (!st)
			return false;
		sqlite3_bind_text(st, 1, channel_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			read_open_row(st, out);
		store_done(st);
		if (out->found || !scid || !scid[0])
			return true;
	}
	if (!scid || !scid[0])
		return true;
	st = store_stmt(db,
			"SELECT " OPEN_COLS " FROM channel_costs WHERE "
			"channel_id = (SELECT channel_id FROM channel_scids "
			"WHERE scid = ?1) OR scid = ?1 LIMIT 1",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		read_open_row(st, out);
	store_done(st);
	return true;
}

bool acct_db_scid_link(struct store *db, const char *scid,
		       const char *channel_id, uint64_t now, char **err)
{
	sqlite3_stmt *st;

	if (!scid || !scid[0] || !channel_id || !channel_id[0])
		return true;
	st = store_stmt(db,
			"INSERT INTO channel_scids (scid, channel_id, "
			"first_seen) VALUES (?1, ?2, ?3) "
			"ON CONFLICT(scid) DO NOTHING",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, channel_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	return store_step_done(db, st, "channel_scids", err);
}

bool acct_db_open_insert(struct store *db, const struct acct_open_row *row,
			 uint64_t now, bool *inserted, char **err)
{
	sqlite3_stmt *st =
	    store_stmt(db,
		       "INSERT INTO channel_costs (" OPEN_COLS ", recorded_at) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		       "ON CONFLICT(channel_id) DO NOTHING",
		       err);

	*inserted = false;
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, row->channel_id, -1, SQLITE_TRANSIENT);
	sql_bind_text_or_null(st, 2, row->scid);
	sqlite3_bind_text(st, 3, row->peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4,
			  row->opener == PNL_OPENER_LOCAL    ? "local"
			  : row->opener == PNL_OPENER_REMOTE ? "remote"
							     : "unknown",
			  -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)row->capacity_sat);
	sql_bind_text_or_null(st, 6, row->funding_txid);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)row->opened_at);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)row->open_cost_msat);
	sqlite3_bind_text(st, 9, row->source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)now);
	if (!store_step_done(db, st, "channel_costs", err))
		return false;
	*inserted = sqlite3_changes(store_db(db)) > 0;
	return acct_db_scid_link(db, row->scid, row->channel_id, now, err);
}

bool acct_db_open_resplice(struct store *db, const char *channel_id,
			   const char *scid, uint64_t capacity_sat,
			   uint64_t now, char **err)
{
	sqlite3_stmt *st;

	if (!acct_db_scid_link(db, scid, channel_id, now, err))
		return false;
	st = store_stmt(db,
			"UPDATE channel_costs SET scid = ?2, capacity_sat = "
			"CASE WHEN ?3 > 0 THEN ?3 ELSE capacity_sat END "
			"WHERE channel_id = ?1",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, channel_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)capacity_sat);
	return store_step_done(db, st, "channel_costs", err);
}

void acct_scids_add(struct acct_scids *out, size_t *cap, const char *s)
{
	if (!s || !s[0])
		return;
	for (size_t i = 0; i < out->n; i++)
		if (!strcmp(out->v[i], s))
			return;
	xgrow(&out->v, cap, out->n + 1, sizeof(*out->v));
	snprintf(out->v[out->n++], 24, "%s", s);
}

bool acct_db_scids(struct store *db, const char *channel_id, const char *scid,
		   struct acct_scids *out, char **err)
{
	size_t cap = 0;
	sqlite3_stmt *st;
	char s[24];

	out->n = 0;
	out->v = NULL;
	acct_scids_add(out, &cap, scid);
	if (!channel_id || !channel_id[0])
		return true;
	st = store_stmt(db,
			"SELECT scid FROM channel_scids WHERE channel_id = ?1 "
			"ORDER BY first_seen, scid",
			err);
	if (!st) {
		free(out->v);
		out->v = NULL;
		out->n = 0;
		return false;
	}
	sqlite3_bind_text(st, 1, channel_id, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sql_col_str(st, 0, s, sizeof(s));
		acct_scids_add(out, &cap, s);
	}
	store_done(st);
	return true;
}

bool acct_db_channel_of(struct store *db, const char *scid, char out[65],
			char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db, "SELECT channel_id FROM channel_scids WHERE scid = ?1", err);

	out[0] = '\0';
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		sql_col_str(st, 0, out, 65);
	store_done(st);
	return true;
}

/* ---- splices ---- */

bool acct_db_splice_insert(struct store *db, const struct acct_splice_row *s,
			   char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "INSERT INTO channel_splices (channel_id, old_scid, new_scid, "
	    "splice_txid, splice_type, amount_sat, fee_msat, cost_source, "
	    "timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	    "ON CONFLICT(channel_id, new_scid) DO NOTHING",
	    err);

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, s->channel_id, -1, SQLITE_TRANSIENT);
	sql_bind_text_or_null(st, 2, s->old_scid);
	sql_bind_text_or_null(st, 3, s->new_scid);
	sql_bind_text_or_null(st, 4, s->txid);
	sqlite3_bind_text(st, 5, s->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, s->amount_sat);
	sqlite3_bind_int64(st, 7, s->fee_msat);
	sqlite3_bind_text(st, 8, s->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)s->at);
	return store_step_done(db, st, "channel_splices", err);
}

bool acct_db_splice_cost(struct store *db, const char *channel_id,
			 int64_t *msat, char **err)
{
	sqlite3_stmt *st;

	*msat = 0;
	if (!channel_id || !channel_id[0])
		return true;
	st = store_stmt(db,
			"SELECT COALESCE(SUM(fee_msat), 0) FROM "
			"channel_splices WHERE channel_id = ?1",
			err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, channel_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		*msat = sql_col_i64(st, 0);
	store_done(st);
	return true;
}

/* ---- rebalances ---- */

bool acct_db_rebalance_insert(struct store *db, const char *dest_scid,
			      const char *src_scid, const char *peer_id,
			      uint64_t amount_msat, uint64_t cost_msat,
			      uint64_t now, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "INSERT INTO rebalance_costs (dest_scid, src_scid, peer_id, "
	    "amount_msat, cost_msat, timestamp) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6)",
	    err);

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, dest_scid, -1, SQLITE_TRANSIENT);
	sql_bind_text_or_null(st, 2, src_scid);
	sql_bind_text_or_null(st, 3, peer_id);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)amount_msat);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)cost_msat);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
	return store_step_done(db, st, "rebalance_costs", err);
}

/* ---- rebalances, as the cycles record and read them ---- */

bool accounting_record_rebalance(struct revenue *r, const char *dest_scid,
				 const char *src_scid, uint64_t amount_msat,
				 uint64_t fee_msat, uint64_t now_sec_,
				 char **err)
{
	struct acct_open_row row;
	bool own;

	if (!dest_scid || !scid_valid(dest_scid)) {
		*err = xfmt("rebalance: invalid destination scid '%s'",
			    dest_scid ? dest_scid : "(null)");
		return false;
	}
	if (src_scid && !scid_valid(src_scid)) {
		*err = xfmt("rebalance: invalid source scid '%s'", src_scid);
		return false;
	}
	if (amount_msat > AMOUNT_MSAT_MAX || fee_msat > AMOUNT_MSAT_MAX) {
		*err = xstrdup("rebalance: amount out of range");
		return false;
	}
	if (!acct_db_open_find(r->db, NULL, dest_scid, &row, err))
		return false;
	own = !store_in_transaction(r->db);
	if (own && !store_begin(r->db, err))
		return false;
	if (!acct_db_rebalance_insert(r->db, dest_scid, src_scid,
				      row.found ? row.peer_id : NULL,
				      amount_msat, fee_msat, now_sec_, err)) {
		if (own)
			store_rollback(r->db);
		return false;
	}
	return !own || store_commit(r->db, err);
}

bool accounting_rebalance_spent(struct revenue *r, uint64_t since_sec,
				uint64_t *fee_msat, char **err)
{
	int64_t v;

	if (!acct_db_sum(r->db, ACCT_SUM_REBALANCE, since_sec, &v, err))
		return false;
	*fee_msat = v < 0 ? 0 : (uint64_t)v;
	return true;
}

bool accounting_rebalances_30d(struct revenue *r, const struct chan_info *ci,
			       uint64_t now_sec, int64_t *amount_msat,
			       uint32_t *count, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT COALESCE(SUM(amount_msat), 0), COUNT(*) FROM "
	    "rebalance_costs WHERE dest_scid = ?1 AND timestamp >= ?2",
	    err);

	*amount_msat = 0;
	*count = 0;
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, ci->scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2,
			   (sqlite3_int64)(now_sec > 30 * 86400
					       ? now_sec - 30 * 86400
					       : 0));
	if (sqlite3_step(st) == SQLITE_ROW) {
		*amount_msat = sqlite3_column_int64(st, 0);
		*count = (uint32_t)sqlite3_column_int64(st, 1);
	}
	store_done(st);
	return true;
}
