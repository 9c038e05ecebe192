/* The accounting's P&L, read from the stores (store/acct_db.h,
 * store/acct_archive.h, the forward statistics) and computed by
 * engine/pnl.h: a channel's observation and result, a period's, and the
 * node's lifetime costs. Reads only. The fee cycle prices a channel with
 * it; the reports and the datastore publication show it. */
#ifndef HIVE_REVENUE_OPS_ACCT_PNL_H
#define HIVE_REVENUE_OPS_ACCT_PNL_H
#include "engine/pnl.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chan_info;
struct fwd_stats;
struct revenue;

/* What identifies a channel to the observation builder. */
struct acct_key {
	const char *channel_id; /* 64-hex, or "" */
	const char *scid;	/* current short_channel_id */
	const char *peer_id;
	enum pnl_opener opener; /* as lightningd says */
	uint64_t capacity_sat;
	uint64_t opened_hint_sec; /* from state_changes, 0 unknown */
	uint32_t funding_height;  /* 0 unknown */
};

/* What the builder found besides the observation (for reports). */
struct acct_obs_extra {
	struct acct_open_row open; /* the recorded row, or the fallback */
	bool open_recorded;	   /* false: fallback estimate */
	struct acct_fwd fwd;
	int64_t rebalance_msat[ACCT_NWIN];
	int64_t splice_msat;
	struct acct_scids scids; /* every scid the channel has had */
};

/* Fill @o (and @x, which the caller releases with acct_obs_extra_free)
 * for an open channel at @now. Database only. @fs, when not NULL, holds
 * forward statistics of every channel (forwards_stats_new) taken at @now:
 * when they have the lifetime, 30 and 7 day windows they are used instead
 * of reading the channel's forwards again. */
bool acct_obs_build(struct revenue *r, const struct acct_key *k, uint64_t now,
		    const struct fwd_stats *fs, struct pnl_channel_obs *o,
		    struct acct_obs_extra *x, char **err)
    __attribute__((warn_unused_result));
void acct_obs_extra_free(struct acct_obs_extra *x);
/* Forward statistics of every channel with the observation's windows at
 * @now, for acct_obs_build over many channels (caller frees with
 * forwards_stats_free). */
bool acct_fwd_stats(struct revenue *r, uint64_t now, struct fwd_stats **out,
		    char **err) __attribute__((warn_unused_result));

/* The pnl params (reference thresholds). */
void acct_pnl_params(struct pnl_params *p);

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

/* An active (CHANNELD_NORMAL / AWAITING_SPLICE) channel's key. */
void acct_live_key(const struct acct_live_chan *c, struct acct_key *k);

/* Costs accumulated over the node's life (msat): every open we paid
 * (recorded, or the configured estimate for an active channel of @v not
 * recorded yet, as its own P&L counts it), closures, splices and
 * rebalances. */
struct acct_costs {
	int64_t open_msat, closure_msat, splice_msat, rebalance_msat;
	int64_t total_msat;
};
bool acct_lifetime_costs(struct revenue *r, const struct acct_live *v,
			 struct acct_costs *out, char **err)
    __attribute__((warn_unused_result));

/* Closed channels in @v (its listclosedchannels result and the
 * listpeerchannels entries in a closed state) that our data mentions
 * (*tracked: how many scids it mentions) and that are not archived yet.
 * Caller frees *out. */
bool acct_unarchived_closures(struct revenue *r, const struct acct_live *v,
			      struct acct_chan **out, size_t *n,
			      size_t *tracked, char **err)
    __attribute__((warn_unused_result));

/* One active channel's P&L as engine/pnl.h computes it. */
struct acct_chan_pnl {
	const struct acct_live_chan *c;
	struct pnl_channel_obs o;
	struct pnl_channel_result res;
	struct acct_obs_extra x;
};

/* The P&L of channel @c of a live view at @now. @fs: forward statistics
 * of every channel (acct_fwd_stats), or NULL. */
bool acct_chan_pnl_compute(struct revenue *r, const struct acct_live_chan *c,
			   uint64_t now, const struct fwd_stats *fs,
			   struct acct_chan_pnl *p, char **err)
    __attribute__((warn_unused_result));
/* P&L of every active channel of @v (only @peer's when not NULL); the
 * caller frees *out with acct_chan_pnls_free(). */
bool acct_chan_pnls(struct revenue *r, const struct acct_live *v,
		    const char *peer, struct acct_chan_pnl **out, size_t *n,
		    char **err) __attribute__((warn_unused_result));
void acct_chan_pnls_free(struct acct_chan_pnl *v, size_t n);

/* The node's P&L from @since (a window of @days for annualising):
 * revenue (exit fees), opex (rebalance, closure and splice costs), open
 * costs (capital, not opex), and the total liquid value of @v (local
 * balances of channels that are not closing plus confirmed on-chain
 * funds) as the capital. */
struct acct_period {
	uint64_t since;
	struct acct_flow rev;
	struct pnl_period_obs po;
	struct pnl_period_result pr;
	int64_t open_msat;
	uint64_t tlv_msat;
};
bool acct_period_compute(struct revenue *r, const struct acct_live *v,
			 uint64_t since, uint32_t days, struct acct_period *out,
			 char **err) __attribute__((warn_unused_result));

#endif
