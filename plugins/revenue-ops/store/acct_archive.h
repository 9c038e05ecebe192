/* The accounting's archive (migration 4): the closure of each closed
 * channel, the archived channels with their final P&L, the daily
 * financial snapshots, and the removal of a closed channel's operational
 * rows (migrations 3 and 5) once archived. Plain structs in and out; no
 * RPC, no JSON. Writes run inside the caller's transaction. */
#ifndef HIVE_REVENUE_OPS_ACCT_ARCHIVE_H
#define HIVE_REVENUE_OPS_ACCT_ARCHIVE_H
#include "plugins/revenue-ops/store/acct_db.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* ---- closures and the archive ---- */

struct acct_closure_row {
	bool found;
	char channel_id[65];
	char scid[24];
	char peer_id[67];
	char close_type[20];
	char closer[8];
	char source[24];
	char funding_txid[65];
	char closing_txid[65];
	int64_t closure_fee_msat, htlc_sweep_fee_msat, penalty_fee_msat;
	int64_t total_msat;
	uint64_t closed_at;
	bool resolution_complete;
	bool bkpr_account; /* costs came from bookkeeper's channel account */
};
bool acct_db_closure_find(struct store *db, const char *channel_id,
			  struct acct_closure_row *out, char **err)
    __attribute__((warn_unused_result));
/* Insert or replace the closure of row->channel_id. */
bool acct_db_closure_write(struct store *db, const struct acct_closure_row *row,
			   uint64_t now, char **err)
    __attribute__((warn_unused_result));

struct acct_closed_row {
	bool found;
	char channel_id[65];
	char scid[24];
	char peer_id[67];
	char opener[8];
	char close_type[20];
	char closer[8];
	char funding_txid[65];
	char closing_txid[65];
	uint64_t capacity_sat;
	uint64_t opened_at, closed_at, archived_at, cleaned_at;
	int64_t open_cost_msat, closure_cost_msat, splice_cost_msat,
	    rebalance_cost_msat;
	int64_t revenue_msat, sourced_fee_msat;
	int64_t volume_routed_msat, sourced_volume_msat;
	uint64_t forward_count, sourced_forward_count;
	int64_t net_pnl_msat;
	uint32_t days_open;
};
/* The archive of @channel_id, or of the channel that had @scid. */
bool acct_db_closed_find(struct store *db, const char *channel_id,
			 const char *scid, struct acct_closed_row *out,
			 char **err) __attribute__((warn_unused_result));
/* Insert or refresh the archive (cleaned_at and archived_at of an
 * existing row are kept). */
bool acct_db_closed_write(struct store *db, const struct acct_closed_row *row,
			  char **err) __attribute__((warn_unused_result));
bool acct_db_closed_mark_cleaned(struct store *db, const char *channel_id,
				 uint64_t now, char **err)
    __attribute__((warn_unused_result));
/* Every archived channel (caller frees *rows). */
bool acct_db_closed_all(struct store *db, struct acct_closed_row **rows,
			size_t *n, char **err)
    __attribute__((warn_unused_result));

/* ---- snapshots ---- */

struct acct_snapshot {
	uint64_t day, timestamp;
	uint64_t local_msat, remote_msat;
	uint64_t onchain_sat, capacity_sat;
	int64_t revenue_msat, costs_msat, rebalance_msat;
	uint64_t channel_count;
};
/* One row per UTC day: a later snapshot of the same day replaces it. */
bool acct_db_snapshot_write(struct store *db, const struct acct_snapshot *s,
			    char **err) __attribute__((warn_unused_result));
/* The latest @limit snapshots, newest first (caller frees *v). */
bool acct_db_snapshot_list(struct store *db, size_t limit,
			   struct acct_snapshot **v, size_t *n, char **err)
    __attribute__((warn_unused_result));
bool acct_db_snapshot_prune(struct store *db, uint64_t before_sec, char **err)
    __attribute__((warn_unused_result));

/* ---- operational rows of closed channels ---- */

/* Delete the per-channel operational rows (flow, fee controller, probe
 * and failure state) of @scid from every such table that exists. Never
 * touches an accounting table. *removed counts the rows. */
bool acct_db_remove_operational(struct store *db, const char *scid,
				uint64_t *removed, char **err)
    __attribute__((warn_unused_result));
/* Does any operational table still hold a row for @scid? */
bool acct_db_has_operational(struct store *db, const char *scid, bool *has,
			     char **err) __attribute__((warn_unused_result));
/* Every scid our data mentions: forwards, rollups, costs, operational
 * tables (caller frees out->v). */
bool acct_db_tracked_scids(struct store *db, struct acct_scids *out, char **err)
    __attribute__((warn_unused_result));

#endif
