/* What every fee decision reads, gathered once per run, and one
 * channel's decision from it: shared by the fee cycle (fee.c) and
 * revenue-fee-debug (rpc/fee_debug.c), so the preview decides exactly as
 * the cycle would. The inputs are the node view and the neighbours' fee
 * priors of its new channels (neighbours.h), the live policies, the
 * mempool sample and its 24 h average, the forward statistics of every
 * channel, and which channels share a peer; each channel's observation
 * adds its flow, fee anchor, P&L (acct_pnl.h) and peer reputation,
 * uptime and HTLC hold. Reads only: the caller acts and persists. */
#ifndef HIVE_REVENUE_OPS_FEE_OBS_H
#define HIVE_REVENUE_OPS_FEE_OBS_H
#include "common/rng.h"
#include "engine/fee_ctl.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chan_info;
struct chan_prep;
struct fwd_stats;
struct neighbour_priors;
struct node_view;
struct policy;
struct revenue;
struct u64map;

struct fee_inputs {
	struct revenue *r;
	const char *parent_id; /* the command the calls belong to, or NULL */
	struct node_view *v;
	uint64_t now;
	struct fee_ctl_params p;
	struct policy *pols;
	size_t npols;
	double satvb, ma_satvb;
	bool have_sample;
	/* Read once for all channels (fee_inputs_prepare): their forwards,
	 * and which channels share a peer (indices into v->chans, see
	 * peers_group). */
	struct fwd_stats *fs;
	size_t *peer_first, *peer_next;
	/* scid key -> struct chan_prep (one per active channel). */
	struct u64map *prep;
	struct chan_prep *preps;
	/* Fee priors of new channels, and where the gathered view goes once
	 * they are known. */
	struct neighbour_priors *np;
	void (*priced)(struct revenue *r, struct node_view *v,
		       const char *err, void *arg);
	void *priced_arg;
	struct node_view *pending_v;
};

/* Gather the node view (chained to @parent_id), then the neighbours' fees
 * its new channels need, then call @priced with the view (the callee's to
 * free) or an error. @in must be zeroed; it keeps the priors. */
void fee_inputs_gather(struct fee_inputs *in, struct revenue *r,
		       const char *parent_id,
		       void (*priced)(struct revenue *r, struct node_view *v,
				      const char *err, void *arg),
		       void *arg);

/* With in->v, in->now and in->p set: the live policies and the mempool
 * sample. */
bool fee_inputs_load(struct fee_inputs *in, char **err)
    __attribute__((warn_unused_result));

/* The forward statistics of every channel (or only @only_scid's) and the
 * channels grouped by peer. */
bool fee_inputs_prepare(struct fee_inputs *in, const char *only_scid,
			char **err) __attribute__((warn_unused_result));

/* Load, observe, decide one channel with @rng: @st is its state after the
 * step, @d the decision; *stored (when @stored is not NULL) the state as
 * loaded, as JSON (new reference). @eng_err is the engine's refusal (the
 * channel is skipped); database errors are returned. */
bool fee_decide(struct fee_inputs *in, const struct chan_info *ci,
		struct fee_ctl_state *st, struct fee_ctl_decision *d,
		struct rng *rng, json_t **stored, const char **eng_err,
		char **err) __attribute__((warn_unused_result));

/* Free what the inputs hold (the view included); @in is zeroed. */
void fee_inputs_release(struct fee_inputs *in);

/* Why nothing is sent now ("dry_run", "fee_authority_disabled",
 * "paused"), or NULL. */
const char *fee_block_reason(struct revenue *r);

#endif
