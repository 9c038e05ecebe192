/* Internals shared by the accounting files (accounting.c, reports.c,
 * portfolio.c, health.c): the module's state, the per-channel observation builder,
 * the lifecycle job queue, and the live view of the node the reports
 * read. Not for other modules: they use accounting.h. */
#ifndef HIVE_REVENUE_OPS_ACCT_H
#define HIVE_REVENUE_OPS_ACCT_H
#include "engine/pnl.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include "plugins/revenue-ops/cycle/acct_parse.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct command;
struct cycle;
struct revenue;
struct acct_job;
struct acct_live;
struct fwd_stats;

struct accounting {
	struct revenue *r;
	struct cycle *cycle;
	struct acct_job *head, *tail; /* waiting lifecycle jobs */
	struct acct_job *running;
	/* The chain tip last seen, to date channels we never saw open. */
	uint32_t tip_height;
	uint64_t tip_sec;
	bool bkpr_missing_logged;
};

#define ACCT_DAY 86400ULL

/* Record the chain tip (getinfo) seen at @now. */
void acct_note_tip(struct revenue *r, uint32_t height, uint64_t now);
/* When a channel confirmed in @block opened, from the last tip seen
 * (10-minute blocks); 0 when unknown. */
uint64_t acct_block_time(const struct revenue *r, uint32_t block);

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

/* ---- lifecycle events ---- */

enum acct_event_kind {
	ACCT_EV_OPEN,	/* reached CHANNELD_NORMAL now: record the open */
	ACCT_EV_ADOPT,	/* make sure it has an open record (not "now") */
	ACCT_EV_SPLICE, /* a splice completed */
	ACCT_EV_CLOSE,	/* closing or closed: closure cost and archive */
};

/* Everything an event's writes depend on, gathered beforehand. Strings
 * may be NULL or "" when unknown, except channel_id (64-hex). */
struct acct_event {
	enum acct_event_kind kind;
	const char *channel_id, *scid, *peer_id;
	const char *old_state, *new_state, *cause;
	uint64_t at_sec;	      /* when it happened; 0: now */
	bool from_listing;	      /* @ch came from a listing alone */
	const struct acct_chan *ch;   /* lightningd's entry, or NULL */
	const struct acct_bkpr *bkpr; /* bookkeeper's events, or NULL */
	const struct acct_fee_estimates *est; /* may be NULL */
};

/* Apply @ev at @now in one transaction (all its writes or none). */
bool acct_apply_event(struct revenue *r, const struct acct_event *ev,
		      uint64_t now, char **err)
    __attribute__((warn_unused_result));

/* ---- the lifecycle queue ---- */

/* Called when a queued job finished: @err NULL on success (the job's
 * writes committed), else why nothing was written. */
typedef void (*acct_job_done_fn)(struct revenue *r, const char *channel_id,
				 const char *err, void *arg);

/* Archive the closed channel @ch (from listclosedchannels or a closing
 * listpeerchannels entry) as a close seen now. */
void acct_queue_archive(struct revenue *r, const struct acct_chan *ch,
			acct_job_done_fn done, void *arg);

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

/* Write the day's financial snapshot from @v (and apply retention:
 * snapshots beyond 365 days, raw forwards beyond the retention window).
 * NULL, or the error (caller frees). */
char *acct_snapshot_write(struct revenue *r, const struct acct_live *v);

/* ---- the live view ---- */

struct acct_live_chan {
	struct chan_info ci;
	struct acct_chan ac;
};

struct acct_live {
	struct acct_live_chan *chans; /* listpeerchannels entries with scid */
	size_t n;
	uint32_t tip;
	uint64_t onchain_sat; /* confirmed, unreserved wallet outputs */
	json_t *closed;	      /* listclosedchannels result, when asked */
	uint64_t now;
};

enum acct_live_need {
	ACCT_LIVE_FUNDS = 1,
	ACCT_LIVE_CLOSED = 2,
};

/* Fetch listpeerchannels and getinfo (and listfunds / listclosedchannels
 * per @need) in parallel, chained to @parent_id. @done gets the view
 * (callee frees with acct_live_free) or NULL and the error text
 * ("<method>: <message> (code N)") of the first call that failed. */
void acct_live_fetch(struct revenue *r, const char *parent_id, unsigned need,
		     void (*done)(struct revenue *r, struct acct_live *v,
				  const char *err, void *arg),
		     void *arg);
void acct_live_free(struct acct_live *v);

/* An active (CHANNELD_NORMAL / AWAITING_SPLICE) channel's key. */
void acct_live_key(const struct acct_live_chan *c, struct acct_key *k);

/* ---- computed views (reports.c) ---- */

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
