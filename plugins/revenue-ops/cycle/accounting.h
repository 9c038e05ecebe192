/* Lifecycle accounting (spec §4.16): what each channel cost and earned,
 * from its open to its archive.
 *
 * - channel_state_changed drives it. An open (an opening state ->
 *   CHANNELD_NORMAL) records the open cost when we opened the channel:
 *   bookkeeper's fee for the funding transaction when bookkeeper runs
 *   (queried by the 64-hex channel_id, its account name: defect 30),
 *   otherwise lightningd's estimate at the current opening feerate, or
 *   `estimated_open_cost_sats`. A channel the peer opened cost us 0.
 * - A splice (CHANNELD_AWAITING_SPLICE -> CHANNELD_NORMAL) is not a
 *   close: its fee is recorded (bookkeeper, else 2000 sat) and the new
 *   short_channel_id is linked to the channel, so its forwards and
 *   rebalances before the splice stay its own.
 * - A close (the first of CLOSINGD_COMPLETE, AWAITING_UNILATERAL,
 *   FUNDING_SPEND_SEEN, ONCHAIN, CLOSED we see) records the close type,
 *   who closed, the closure cost (bookkeeper, else the documented
 *   fallbacks of acct_close_cost()), and archives the channel in
 *   closed_channels with its final P&L: every fee it earned, rolled-up
 *   days included (defect 31). Later closing states refresh the costs
 *   (sweeps settle later) and CLOSED marks the resolution complete.
 * - Nothing is lost when a notification is: the daily cycle records
 *   channels it finds without an open record and archives closed
 *   channels our data mentions that were never archived.
 *
 * Every event's writes are one transaction. Lifecycle events run one at
 * a time, in arrival order, on a queue (each may wait on lightningd).
 *
 * The daily cycle ("financial-snapshot": 300 s after start, then every
 * 24 h ± 10 %) also writes the day's financial snapshot and applies
 * retention: raw forwards older than forward_retention_days are rolled
 * up (forwards_prune), snapshots older than 365 days deleted. */
#ifndef HIVE_REVENUE_OPS_ACCOUNTING_H
#define HIVE_REVENUE_OPS_ACCOUNTING_H
#include "plugins/revenue-ops/cycle/acct_parse.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct acct_live;
struct cycle;
struct plugin;
struct revenue;

/* Start the daily cycle (after the database is open). Creates r->acct. */
void accounting_start(struct revenue *r);
/* Stop the cycle and free r->acct; a lifecycle event waiting on
 * lightningd finishes harmlessly (its writes are skipped). */
void accounting_stop(struct revenue *r);

/* Run the daily cycle now (snapshot, missed opens and closes,
 * retention), then keep its schedule: for revenue-wake-all and
 * revenue-cycle. */
void accounting_snapshot_now(struct revenue *r);

/* The channel_state_changed subscription. */
void accounting_on_channel_state(struct plugin *p, const json_t *payload);

/* ---- the lifecycle queue ---- */

/* Called when a queued job finished: @err NULL on success (the job's
 * writes committed), else why nothing was written. */
typedef void (*acct_job_done_fn)(struct revenue *r, const char *channel_id,
				 const char *err, void *arg);

/* Archive the closed channel @ch (from listclosedchannels or a closing
 * listpeerchannels entry) as a close seen now. */
void acct_queue_archive(struct revenue *r, const struct acct_chan *ch,
			acct_job_done_fn done, void *arg);

/* Write the day's financial snapshot from @v (and apply retention:
 * snapshots beyond 365 days, raw forwards beyond the retention window).
 * NULL, or the error (caller frees). */
char *acct_snapshot_write(struct revenue *r, const struct acct_live *v);

/* The daily cycle (revenue-health shows it), NULL when stopped. */
struct cycle *accounting_cycle(const struct revenue *r);

#endif
