/* Reconciling the forward store (store/forwards.h) with lightningd:
 * `listforwards` paginated by created_index, then by updated_index, from
 * the stored cursors. Every cycle starts with one; forward_event asks for
 * one; runs never overlap (a request during a run gets one more run). */
#ifndef HIVE_REVENUE_OPS_FORWARDS_SYNC_H
#define HIVE_REVENUE_OPS_FORWARDS_SYNC_H
#include <jansson.h>
#include <stdbool.h>

struct revenue;

/* Free the reconciliation's state (r->fwd_sync) at shutdown. */
void forwards_state_free(struct revenue *r);

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

#endif
