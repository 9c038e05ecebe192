/* Accounting's SQL: reads of forwards, rollups and costs, and the rows of
 * migration 4 (schema_accounting.c). Plain structs in and out; no RPC, no
 * JSON. Write functions run inside the caller's transaction (each
 * lifecycle event's writes are one transaction, opened by the caller).
 *
 * Forward totals combine the raw `forwards` rows and the daily
 * `forward_daily` rollups. A forward is in exactly one of the two
 * (forwards_prune moves rows in the same transaction that deletes them),
 * so summing both never double counts and never loses a rolled-up day.
 * Rollups have a day's resolution: a window starting inside a rolled-up
 * day counts that whole day (never under-counting). */
#ifndef HIVE_REVENUE_OPS_ACCT_DB_H
#define HIVE_REVENUE_OPS_ACCT_DB_H
#include "engine/pnl.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* The windows per-channel totals are taken over. */
enum acct_win { ACCT_W_ALL, ACCT_W_30D, ACCT_W_7D, ACCT_NWIN };

struct acct_flow {
	int64_t fee_msat;
	int64_t vol_msat;
	uint64_t count;
};

struct acct_fwd {
	struct acct_flow out[ACCT_NWIN]; /* as exit: fees earned, out_msat */
	struct acct_flow in[ACCT_NWIN];	 /* as entry: fees sourced, in_msat */
	uint64_t last_sec; /* latest settled forward through it, 0: none */
};

/* Node-wide: every settled forward (the node's exit fees = its revenue)
 * received at or after @since. */
bool acct_db_node_fwd(struct store *db, uint64_t since, struct acct_flow *out,
		      char **err) __attribute__((warn_unused_result));

/* Exit fees per scid and UTC day in [@from_sec, @to_sec) (both day
 * starts), raw rows and rollups together: @cb gets each (scid, day
 * start, fee) group, possibly more than once per pair (add them). */
bool acct_db_daily_fees(struct store *db, uint64_t from_sec, uint64_t to_sec,
			void (*cb)(const char *scid, uint64_t day,
				   int64_t fee_msat, void *arg),
			void *arg, char **err)
    __attribute__((warn_unused_result));

/* Add the rebalance costs of @scid as destination since each @since[w]. */
bool acct_db_rebalance_add(struct store *db, const char *scid,
			   const uint64_t since[ACCT_NWIN],
			   int64_t cost_msat[ACCT_NWIN], char **err)
    __attribute__((warn_unused_result));

/* Node-wide sums of a cost since @since (0: lifetime). */
enum acct_sum {
	ACCT_SUM_REBALANCE, /* rebalance_costs.cost_msat by timestamp */
	ACCT_SUM_CLOSURE,   /* channel_closure_costs total, by closed_at */
	ACCT_SUM_SPLICE,    /* channel_splices.fee_msat by timestamp */
	ACCT_SUM_OPEN,	    /* channel_costs of our opens, by opened_at */
};
bool acct_db_sum(struct store *db, enum acct_sum what, uint64_t since,
		 int64_t *msat, char **err) __attribute__((warn_unused_result));

/* ---- channel_costs and channel_scids ---- */

struct acct_open_row {
	bool found;
	char channel_id[65];
	char scid[24];
	char peer_id[67];
	char funding_txid[65];
	char source[24];
	enum pnl_opener opener;
	uint64_t capacity_sat;
	uint64_t opened_at;
	int64_t open_cost_msat;
};

/* The row of @channel_id, or (when that is NULL or "" or has no row)
 * the channel that has, or had, @scid. out->found false when none. */
bool acct_db_open_find(struct store *db, const char *channel_id,
		       const char *scid, struct acct_open_row *out, char **err)
    __attribute__((warn_unused_result));
/* Insert @row unless the channel has one already (*inserted says which).
 * Also links row->scid to the channel. */
bool acct_db_open_insert(struct store *db, const struct acct_open_row *row,
			 uint64_t now, bool *inserted, char **err)
    __attribute__((warn_unused_result));
/* A splice gave the channel @scid (and a new capacity): link it and make
 * it the current one. */
bool acct_db_open_resplice(struct store *db, const char *channel_id,
			   const char *scid, uint64_t capacity_sat,
			   uint64_t now, char **err)
    __attribute__((warn_unused_result));
bool acct_db_scid_link(struct store *db, const char *scid,
		       const char *channel_id, uint64_t now, char **err)
    __attribute__((warn_unused_result));

/* Every scid the channel has had: the ones linked to @channel_id plus
 * @scid (either may be NULL/""), without duplicates. Caller frees
 * out->v. */
struct acct_scids {
	size_t n;
	char (*v)[24];
};
bool acct_db_scids(struct store *db, const char *channel_id, const char *scid,
		   struct acct_scids *out, char **err)
    __attribute__((warn_unused_result));
/* The channel_id a scid belongs to ("" when unknown). */
bool acct_db_channel_of(struct store *db, const char *scid, char out[65],
			char **err) __attribute__((warn_unused_result));

/* ---- splices ---- */

struct acct_splice_row {
	char channel_id[65];
	char old_scid[24], new_scid[24];
	char txid[65];
	const char *type;   /* splice_in | splice_out */
	int64_t amount_sat; /* signed */
	int64_t fee_msat;
	const char *source;
	uint64_t at;
};
/* Insert (ignored if this channel already has a splice to new_scid). */
bool acct_db_splice_insert(struct store *db, const struct acct_splice_row *s,
			   char **err) __attribute__((warn_unused_result));
bool acct_db_splice_cost(struct store *db, const char *channel_id,
			 int64_t *msat, char **err)
    __attribute__((warn_unused_result));

/* ---- rebalances ---- */

bool acct_db_rebalance_insert(struct store *db, const char *dest_scid,
			      const char *src_scid, const char *peer_id,
			      uint64_t amount_msat, uint64_t cost_msat,
			      uint64_t now, char **err)
    __attribute__((warn_unused_result));

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
