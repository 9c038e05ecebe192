/* The accounting's archive: closures, closed channels, snapshots and the
 * cleanup of closed channels' operational rows; see acct_archive.h. */
#include "plugins/revenue-ops/store/acct_archive.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/store/schema.h"
#include "plugins/revenue-ops/store/sql.h"
#include <stdio.h>
#include <string.h>

/* ---- closures ---- */

bool acct_db_closure_find(struct store *db, const char *channel_id,
			  struct acct_closure_row *out, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "SELECT channel_id, scid, peer_id, close_type, closer, "
	    "cost_source, funding_txid, closing_txid, closure_fee_msat, "
	    "htlc_sweep_fee_msat, penalty_fee_msat, "
	    "total_closure_cost_msat, closed_at, resolution_complete, "
	    "bkpr_account FROM channel_closure_costs WHERE channel_id = ?1",
	    err);

	memset(out, 0, sizeof(*out));
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, channel_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->found = true;
		sql_col_str(st, 0, out->channel_id, sizeof(out->channel_id));
		sql_col_str(st, 1, out->scid, sizeof(out->scid));
		sql_col_str(st, 2, out->peer_id, sizeof(out->peer_id));
		sql_col_str(st, 3, out->close_type, sizeof(out->close_type));
		sql_col_str(st, 4, out->closer, sizeof(out->closer));
		sql_col_str(st, 5, out->source, sizeof(out->source));
		sql_col_str(st, 6, out->funding_txid,
			    sizeof(out->funding_txid));
		sql_col_str(st, 7, out->closing_txid,
			    sizeof(out->closing_txid));
		out->closure_fee_msat = sql_col_i64(st, 8);
		out->htlc_sweep_fee_msat = sql_col_i64(st, 9);
		out->penalty_fee_msat = sql_col_i64(st, 10);
		out->total_msat = sql_col_i64(st, 11);
		out->closed_at = (uint64_t)sql_col_i64(st, 12);
		out->resolution_complete = sql_col_i64(st, 13) != 0;
		out->bkpr_account = sqlite3_column_type(st, 14) != SQLITE_NULL;
	}
	store_done(st);
	return true;
}

bool acct_db_closure_write(struct store *db, const struct acct_closure_row *row,
			   uint64_t now, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "INSERT INTO channel_closure_costs (channel_id, scid, peer_id, "
	    "close_type, closer, closure_fee_msat, htlc_sweep_fee_msat, "
	    "penalty_fee_msat, total_closure_cost_msat, cost_source, "
	    "funding_txid, closing_txid, closed_at, resolution_complete, "
	    "bkpr_account, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
	    "ON CONFLICT(channel_id) DO UPDATE SET scid = ?2, "
	    "close_type = ?4, closer = ?5, closure_fee_msat = ?6, "
	    "htlc_sweep_fee_msat = ?7, penalty_fee_msat = ?8, "
	    "total_closure_cost_msat = ?9, cost_source = ?10, "
	    "funding_txid = ?11, closing_txid = ?12, "
	    "resolution_complete = ?14, bkpr_account = ?15, "
	    "updated_at = ?16",
	    err);

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, row->channel_id, -1, SQLITE_TRANSIENT);
	sql_bind_text_or_null(st, 2, row->scid);
	sqlite3_bind_text(st, 3, row->peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, row->close_type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, row->closer[0] ? row->closer : "unknown", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, row->closure_fee_msat);
	sqlite3_bind_int64(st, 7, row->htlc_sweep_fee_msat);
	sqlite3_bind_int64(st, 8, row->penalty_fee_msat);
	sqlite3_bind_int64(st, 9, row->total_msat);
	sqlite3_bind_text(st, 10, row->source, -1, SQLITE_TRANSIENT);
	sql_bind_text_or_null(st, 11, row->funding_txid);
	sql_bind_text_or_null(st, 12, row->closing_txid);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)row->closed_at);
	sqlite3_bind_int(st, 14, row->resolution_complete);
	sql_bind_text_or_null(st, 15,
			      row->bkpr_account ? row->channel_id : NULL);
	sqlite3_bind_int64(st, 16, (sqlite3_int64)now);
	return store_step_done(db, st, "channel_closure_costs", err);
}

/* ---- closed_channels ---- */

#define CLOSED_COLS                                                            \
	"channel_id, scid, peer_id, capacity_sat, opener, opened_at, "         \
	"closed_at, close_type, closer, open_cost_msat, closure_cost_msat, "   \
	"splice_cost_msat, rebalance_cost_msat, revenue_msat, "                \
	"sourced_fee_msat, volume_routed_msat, sourced_volume_msat, "          \
	"forward_count, sourced_forward_count, net_pnl_msat, days_open, "      \
	"funding_txid, closing_txid, archived_at, cleaned_at"

static void read_closed_row(sqlite3_stmt *st, struct acct_closed_row *o)
{
	o->found = true;
	sql_col_str(st, 0, o->channel_id, sizeof(o->channel_id));
	sql_col_str(st, 1, o->scid, sizeof(o->scid));
	sql_col_str(st, 2, o->peer_id, sizeof(o->peer_id));
	o->capacity_sat = (uint64_t)sql_col_i64(st, 3);
	sql_col_str(st, 4, o->opener, sizeof(o->opener));
	o->opened_at = (uint64_t)sql_col_i64(st, 5);
	o->closed_at = (uint64_t)sql_col_i64(st, 6);
	sql_col_str(st, 7, o->close_type, sizeof(o->close_type));
	sql_col_str(st, 8, o->closer, sizeof(o->closer));
	o->open_cost_msat = sql_col_i64(st, 9);
	o->closure_cost_msat = sql_col_i64(st, 10);
	o->splice_cost_msat = sql_col_i64(st, 11);
	o->rebalance_cost_msat = sql_col_i64(st, 12);
	o->revenue_msat = sql_col_i64(st, 13);
	o->sourced_fee_msat = sql_col_i64(st, 14);
	o->volume_routed_msat = sql_col_i64(st, 15);
	o->sourced_volume_msat = sql_col_i64(st, 16);
	o->forward_count = (uint64_t)sql_col_i64(st, 17);
	o->sourced_forward_count = (uint64_t)sql_col_i64(st, 18);
	o->net_pnl_msat = sql_col_i64(st, 19);
	o->days_open = (uint32_t)sql_col_i64(st, 20);
	sql_col_str(st, 21, o->funding_txid, sizeof(o->funding_txid));
	sql_col_str(st, 22, o->closing_txid, sizeof(o->closing_txid));
	o->archived_at = (uint64_t)sql_col_i64(st, 23);
	o->cleaned_at = (uint64_t)sql_col_i64(st, 24);
}

bool acct_db_closed_find(struct store *db, const char *channel_id,
			 const char *scid, struct acct_closed_row *out,
			 char **err)
{
	sqlite3_stmt *st =
	    store_stmt(db,
		       "SELECT " CLOSED_COLS " FROM closed_channels WHERE "
		       "channel_id = ?1 OR scid = ?2 OR channel_id = (SELECT "
		       "channel_id FROM channel_scids WHERE scid = ?2) LIMIT 1",
		       err);

	memset(out, 0, sizeof(*out));
	if (!st)
		return false;
	sql_bind_text_or_null(st, 1, channel_id);
	sql_bind_text_or_null(st, 2, scid);
	if (sqlite3_step(st) == SQLITE_ROW)
		read_closed_row(st, out);
	store_done(st);
	return true;
}

bool acct_db_closed_all(struct store *db, struct acct_closed_row **rows,
			size_t *n, char **err)
{
	sqlite3_stmt *st =
	    store_stmt(db,
		       "SELECT " CLOSED_COLS " FROM closed_channels "
		       "ORDER BY closed_at, channel_id",
		       err);
	size_t cap = 0;

	*rows = NULL;
	*n = 0;
	if (!st)
		return false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		xgrow(rows, &cap, *n + 1, sizeof(**rows));
		memset(&(*rows)[*n], 0, sizeof(**rows));
		read_closed_row(st, &(*rows)[(*n)++]);
	}
	store_done(st);
	return true;
}

bool acct_db_closed_write(struct store *db, const struct acct_closed_row *r,
			  char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "INSERT INTO closed_channels (" CLOSED_COLS ") VALUES (?1, ?2, "
	    "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
	    "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, NULL) "
	    "ON CONFLICT(channel_id) DO UPDATE SET scid = ?2, "
	    "capacity_sat = ?4, opener = ?5, opened_at = ?6, "
	    "close_type = ?8, closer = ?9, open_cost_msat = ?10, "
	    "closure_cost_msat = ?11, splice_cost_msat = ?12, "
	    "rebalance_cost_msat = ?13, revenue_msat = ?14, "
	    "sourced_fee_msat = ?15, volume_routed_msat = ?16, "
	    "sourced_volume_msat = ?17, forward_count = ?18, "
	    "sourced_forward_count = ?19, net_pnl_msat = ?20, "
	    "days_open = ?21, funding_txid = ?22, closing_txid = ?23",
	    err);

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, r->channel_id, -1, SQLITE_TRANSIENT);
	sql_bind_text_or_null(st, 2, r->scid);
	sqlite3_bind_text(st, 3, r->peer_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)r->capacity_sat);
	sqlite3_bind_text(st, 5, r->opener[0] ? r->opener : "unknown", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->opened_at);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)r->closed_at);
	sqlite3_bind_text(st, 8, r->close_type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, r->closer[0] ? r->closer : "unknown", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 10, r->open_cost_msat);
	sqlite3_bind_int64(st, 11, r->closure_cost_msat);
	sqlite3_bind_int64(st, 12, r->splice_cost_msat);
	sqlite3_bind_int64(st, 13, r->rebalance_cost_msat);
	sqlite3_bind_int64(st, 14, r->revenue_msat);
	sqlite3_bind_int64(st, 15, r->sourced_fee_msat);
	sqlite3_bind_int64(st, 16, r->volume_routed_msat);
	sqlite3_bind_int64(st, 17, r->sourced_volume_msat);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)r->forward_count);
	sqlite3_bind_int64(st, 19, (sqlite3_int64)r->sourced_forward_count);
	sqlite3_bind_int64(st, 20, r->net_pnl_msat);
	sqlite3_bind_int64(st, 21, (sqlite3_int64)r->days_open);
	sql_bind_text_or_null(st, 22, r->funding_txid);
	sql_bind_text_or_null(st, 23, r->closing_txid);
	sqlite3_bind_int64(st, 24, (sqlite3_int64)r->archived_at);
	return store_step_done(db, st, "closed_channels", err);
}

bool acct_db_closed_mark_cleaned(struct store *db, const char *channel_id,
				 uint64_t now, char **err)
{
	sqlite3_stmt *st =
	    store_stmt(db,
		       "UPDATE closed_channels SET cleaned_at = ?2 WHERE "
		       "channel_id = ?1",
		       err);

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, channel_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	return store_step_done(db, st, "closed_channels", err);
}

/* ---- snapshots ---- */

bool acct_db_snapshot_write(struct store *db, const struct acct_snapshot *s,
			    char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "INSERT OR REPLACE INTO financial_snapshots (day, timestamp, "
	    "total_local_balance_msat, total_remote_balance_msat, "
	    "total_onchain_sat, total_capacity_sat, "
	    "total_revenue_accumulated_msat, total_costs_accumulated_msat, "
	    "total_rebalance_cost_accumulated_msat, channel_count) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	    err);

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s->day);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->timestamp);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)s->local_msat);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)s->remote_msat);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)s->onchain_sat);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->capacity_sat);
	sqlite3_bind_int64(st, 7, s->revenue_msat);
	sqlite3_bind_int64(st, 8, s->costs_msat);
	sqlite3_bind_int64(st, 9, s->rebalance_msat);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)s->channel_count);
	return store_step_done(db, st, "financial_snapshots", err);
}

bool acct_db_snapshot_list(struct store *db, size_t limit,
			   struct acct_snapshot **v, size_t *n, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db,
	    "SELECT day, timestamp, total_local_balance_msat, "
	    "total_remote_balance_msat, total_onchain_sat, "
	    "total_capacity_sat, total_revenue_accumulated_msat, "
	    "total_costs_accumulated_msat, "
	    "total_rebalance_cost_accumulated_msat, channel_count FROM "
	    "financial_snapshots ORDER BY day DESC LIMIT ?1",
	    err);
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct acct_snapshot *s;
		xgrow(v, &cap, *n + 1, sizeof(**v));
		s = &(*v)[(*n)++];
		s->day = (uint64_t)sql_col_i64(st, 0);
		s->timestamp = (uint64_t)sql_col_i64(st, 1);
		s->local_msat = (uint64_t)sql_col_i64(st, 2);
		s->remote_msat = (uint64_t)sql_col_i64(st, 3);
		s->onchain_sat = (uint64_t)sql_col_i64(st, 4);
		s->capacity_sat = (uint64_t)sql_col_i64(st, 5);
		s->revenue_msat = sql_col_i64(st, 6);
		s->costs_msat = sql_col_i64(st, 7);
		s->rebalance_msat = sql_col_i64(st, 8);
		s->channel_count = (uint64_t)sql_col_i64(st, 9);
	}
	store_done(st);
	return true;
}

bool acct_db_snapshot_prune(struct store *db, uint64_t before_sec, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    db, "DELETE FROM financial_snapshots WHERE day < ?1", err);

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before_sec);
	return store_step_done(db, st, "financial_snapshots", err);
}

/* ---- operational rows of closed channels ----
 *
 * Per-channel state that only matters while a channel is open (flow
 * analysis, fee controller): the tables schema.h lists. Accounting tables
 * are never among them: they are never cleaned. */

/* Run "<verb> <table> WHERE <column> = ?" on every operational table.
 * The SQL is built from schema.h's static list (never from input), and
 * prepared here because store_stmt caches by pointer. */
static bool each_operational(struct store *db, const char *verb,
			     const char *scid, uint64_t *count, char **err)
{
	*count = 0;
	for (unsigned i = 0; i < revenue_num_channel_tables; i++) {
		const struct revenue_channel_table *t =
			&revenue_channel_tables[i];
		sqlite3_stmt *st;
		char *sql;
		int rc;

		sql = xfmt("%s %s WHERE %s = ?1", verb, t->table, t->column);
		rc = sqlite3_prepare_v2(store_db(db), sql, -1, &st, NULL);
		free(sql);
		if (rc != SQLITE_OK) {
			*err = xfmt("%s: %s", t->table, store_errmsg(db));
			return false;
		}
		sqlite3_bind_text(st, 1, scid, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*count += (uint64_t)sqlite3_column_int64(st, 0);
		else if (rc == SQLITE_DONE && !strncmp(verb, "DELETE", 6))
			*count += (uint64_t)sqlite3_changes(store_db(db));
		else if (rc != SQLITE_DONE) {
			*err = xfmt("%s: %s", t->table, store_errmsg(db));
			sqlite3_finalize(st);
			return false;
		}
		sqlite3_finalize(st);
	}
	return true;
}

bool acct_db_remove_operational(struct store *db, const char *scid,
				uint64_t *removed, char **err)
{
	return each_operational(db, "DELETE FROM", scid, removed, err);
}

bool acct_db_has_operational(struct store *db, const char *scid, bool *has,
			     char **err)
{
	uint64_t n;

	if (!each_operational(db, "SELECT COUNT(*) FROM", scid, &n, err))
		return false;
	*has = n > 0;
	return true;
}

static bool collect(struct store *db, const char *sql, struct acct_scids *out,
		    size_t *cap, char **err)
{
	sqlite3_stmt *st;
	char s[24];
	int rc = sqlite3_prepare_v2(store_db(db), sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		*err = xfmt("tracked channels: %s", store_errmsg(db));
		return false;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		sql_col_str(st, 0, s, sizeof(s));
		acct_scids_add(out, cap, s);
	}
	sqlite3_finalize(st);
	return true;
}

bool acct_db_tracked_scids(struct store *db, struct acct_scids *out, char **err)
{
	static const char *const sources[] = {
	    "SELECT DISTINCT out_channel FROM forwards WHERE out_channel "
	    "IS NOT NULL",
	    "SELECT DISTINCT in_channel FROM forwards",
	    "SELECT DISTINCT channel FROM forward_daily",
	    "SELECT scid FROM channel_scids",
	    "SELECT scid FROM channel_costs WHERE scid IS NOT NULL",
	    "SELECT DISTINCT dest_scid FROM rebalance_costs",
	};
	size_t cap = 0;

	out->n = 0;
	out->v = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
		if (!collect(db, sources[i], out, &cap, err))
			goto fail;
	for (unsigned i = 0; i < revenue_num_channel_tables; i++) {
		const struct revenue_channel_table *t =
			&revenue_channel_tables[i];
		char *sql;
		bool ok;
		sql = xfmt("SELECT DISTINCT %s FROM %s", t->column, t->table);
		ok = collect(db, sql, out, &cap, err);
		free(sql);
		if (!ok)
			goto fail;
	}
	return true;
fail:
	free(out->v);
	out->v = NULL;
	out->n = 0;
	return false;
}
