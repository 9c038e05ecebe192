/* The local forward store: every forward lightningd reports, kept in
 * SQLite and reconciled with `listforwards` paginated by created_index and
 * updated_index, so a restart or a missed forward_event loses nothing.
 * Raw rows older than the retention window are rolled up into daily
 * per-channel totals (same transaction as the delete), so reports over any
 * window count everything exactly once. */
#ifndef HIVE_REVENUE_OPS_FORWARDS_H
#define HIVE_REVENUE_OPS_FORWARDS_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct revenue;

/* Start a reconciliation with lightningd now (or, if one is running, once
 * more after it). @done is called when the store is up to date (or the
 * sync failed, with an error logged): it may be NULL. */
void forwards_sync(struct revenue *r, void (*done)(struct revenue *r,
						    bool ok, void *arg),
		   void *arg);
/* True while a sync is in flight (the simulator waits for it). */
bool forwards_syncing(const struct revenue *r);

/* {"stored": raw rows, "rolled_up_days": days kept as rollups,
 * "syncing": a reconciliation is running} (new reference). */
json_t *forwards_status_json(struct revenue *r);

/* Roll up and delete raw forwards received before @cutoff_sec, in chunks,
 * each chunk one transaction. Returns false with *err on a database
 * error (the chunk is rolled back; nothing is lost). */
bool forwards_prune(struct revenue *r, uint64_t cutoff_sec, uint64_t *pruned,
		    char **err);

/* Totals of settled forwards per channel since @since_sec, combining raw
 * rows and daily rollups (a rolled-up day that reaches into the window
 * counts whole). Amounts in msat; last_out_sec and hold_ms_sum come from
 * raw rows only. */
struct fwd_totals {
	uint64_t out_msat;	 /* forwarded out through the channel */
	uint64_t in_msat;	 /* received in through the channel */
	uint64_t fee_msat;	 /* earned on forwards out through it */
	uint64_t out_count, in_count;
	uint64_t failed_out;	 /* local failures on the outgoing side */
	uint64_t last_out_sec;	 /* time of the latest settled forward out */
	uint64_t hold_ms_sum;	 /* resolution time, for HTLC-hold premium */
};
bool forwards_totals(struct revenue *r, const char *scid, uint64_t since_sec,
		     struct fwd_totals *t, char **err);

#endif
