/* The fee cycle (spec §4.6): reconcile forwards, gather the node, build
 * each channel's observation (flow, forward window since the last
 * update, peer reputation / uptime / HTLC hold, mempool, policy: see
 * fee_obs.h), run the engine's fee_ctl_step with the plugin's PRNG, act
 * (setchannel only for a decided change, CLBOSS told first), and persist
 * in one transaction: a channel's new state only once its setchannel
 * succeeded.
 *
 * Dry run, fee authority off and pause: every decision is made and
 * reported (revenue-status, revenue-fee-debug, fee_changes rows marked
 * applied = 0) but nothing is sent, and the learned state is left as it
 * was, because the fee on the channel did not change. */
#ifndef HIVE_REVENUE_OPS_FEE_CYCLE_H
#define HIVE_REVENUE_OPS_FEE_CYCLE_H

struct revenue;

/* Start the "fee-adjustment" cycle (90 s after start, then every
 * fee_interval ± 20 %); the pipeline (pipeline.h) must exist. */
void fee_cycle_start(struct revenue *r);

#endif
