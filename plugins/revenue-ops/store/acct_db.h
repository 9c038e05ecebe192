/* Accounting's SQL: reads of forwards, rollups and costs, the rows of
 * channel opens, splices and rebalances of migration 4
 * (schema_accounting.c; closures, the archive and snapshots are in
 * acct_archive.h). Plain structs in and out; no RPC, no JSON. Write functions run inside the caller's transaction (each
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

struct chan_info;
struct revenue;
struct store;

#define ACCT_DAY 86400ULL

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
/* Append @s (ignored when NULL, "" or already there) to @out, whose
 * array has room for *cap. */
void acct_scids_add(struct acct_scids *out, size_t *cap, const char *s);
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

/* Record a successful rebalance or circular payment: @fee_msat is a cost
 * of @dest_scid (the channel that received the liquidity) at @now_sec.
 * @src_scid may be NULL. Runs in the caller's transaction if one is
 * open, else in its own. False with *err (caller frees) on a malformed
 * scid or a database error (nothing written). */
bool accounting_record_rebalance(struct revenue *r, const char *dest_scid,
				 const char *src_scid, uint64_t amount_msat,
				 uint64_t fee_msat, uint64_t now_sec,
				 char **err)
    __attribute__((warn_unused_result));

/* Rebalances into @ci over the last 30 days: amount moved (msat) and how
 * many (the fee controller's rebalance-cost floor needs both). */
bool accounting_rebalances_30d(struct revenue *r, const struct chan_info *ci,
			       uint64_t now_sec, int64_t *amount_msat,
			       uint32_t *count, char **err)
    __attribute__((warn_unused_result));

/* Total rebalance fees recorded since @since_sec (budgets). */
bool accounting_rebalance_spent(struct revenue *r, uint64_t since_sec,
				uint64_t *fee_msat, char **err)
    __attribute__((warn_unused_result));

#endif
