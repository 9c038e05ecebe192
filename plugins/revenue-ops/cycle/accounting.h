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
#include "engine/pnl.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct chan_info;
struct fwd_stats;
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

/* Fill engine/pnl.h's observation of the open channel @ci at @now from
 * the database alone (no RPC): open, splice and rebalance costs (msat;
 * the open cost is the recorded one, else the configured estimate when
 * we opened it), fees earned as exit and sourced as entry, volumes and
 * counts over the channel's lifetime, 30 and 7 days (raw forwards plus
 * daily rollups, over every scid the channel has had), when it opened,
 * when it last routed, who opened it, its capacity. What only the fee
 * controller knows is left "unknown": probe_attempts 0, no probe
 * success, fee_posterior_var -1, no rebalance success samples,
 * prev_bleeder none. @fs: forward statistics of every channel taken at
 * @now_sec, or NULL (see acct_obs_build). Returns false with *err (caller
 * frees) on a database error. */
bool accounting_channel_obs(struct revenue *r, const struct chan_info *ci,
			    uint64_t now_sec, const struct fwd_stats *fs,
			    struct pnl_channel_obs *out, char **err)
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
