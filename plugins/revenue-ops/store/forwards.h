/* The local forward store: every forward lightningd reports, kept in
 * SQLite (tables forwards, forward_daily, sync_state) and reconciled with
 * `listforwards` by cycle/forwards_sync.h, so a restart or a missed
 * forward_event loses nothing.
 * Raw rows older than the retention window are rolled up into daily
 * per-channel totals (same transaction as the delete), so reports over any
 * window count everything exactly once. */
#ifndef HIVE_REVENUE_OPS_FORWARDS_H
#define HIVE_REVENUE_OPS_FORWARDS_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct revenue;

/* The reconciliation's cursors (table sync_state): where the next
 * listforwards page starts (0 when none is stored). */
bool forwards_cursor_get(struct revenue *r, const char *key, uint64_t *v,
			 char **err) __attribute__((warn_unused_result));
/* In its own statement; the caller's transaction if one is open. */
bool forwards_cursor_set(struct revenue *r, const char *key, uint64_t v,
			 char **err) __attribute__((warn_unused_result));

/* Upsert one page of listforwards entries (@items, borrowed) in one
 * transaction. Malformed entries are skipped, never fatal. False with
 * *err on a database error: nothing of the page is stored. */
bool forwards_store_page(struct revenue *r, const json_t *items, char **err)
    __attribute__((warn_unused_result));

/* Raw rows stored, days kept as rollups; -1 on a database error. */
int64_t forwards_count_rows(struct revenue *r);
int64_t forwards_count_rolled_days(struct revenue *r);

/* Roll up and delete raw forwards received before @cutoff_sec, in chunks,
 * each chunk one transaction. Returns false with *err on a database
 * error (the chunk is rolled back; nothing is lost). */
bool forwards_prune(struct revenue *r, uint64_t cutoff_sec, uint64_t *pruned,
		    char **err);

/* Settled forwards per (in, out) pair and UTC hour received since
 * @since_sec (only those through @only_scid when not NULL): one aggregate,
 * never the raw rows. @cb gets each group (either scid may be NULL).
 * False with *err on a database error. */
bool forwards_hourly(struct revenue *r, uint64_t since_sec,
		     const char *only_scid,
		     void (*cb)(const char *in_scid, const char *out_scid,
				uint64_t hour_sec, uint64_t n, void *arg),
		     void *arg, char **err) __attribute__((warn_unused_result));

/* The settled (in, out) pairs since @since_sec with at least
 * @min_forwards forwards, by fees earned (then count, then scids),
 * @limit at most: @cb gets each. */
bool forwards_top_routes(struct revenue *r, uint64_t since_sec,
			 unsigned min_forwards, unsigned limit,
			 void (*cb)(const char *in_scid, const char *out_scid,
				    int64_t fee_msat, uint64_t n, void *arg),
			 void *arg, char **err)
    __attribute__((warn_unused_result));

/* One UTC day of routing. */
struct fwd_day {
	/* Node-wide: forwards settled (counted once, at their exit). For a
	 * channel: those it was the exit of. */
	uint64_t out_count;
	int64_t in_msat, out_msat, fee_msat;
	/* For a channel: forwards it was the entry of. */
	uint64_t in_count;
	int64_t entry_in_msat, sourced_fee_msat;
	/* Forwards that arrived (on the channel) and failed. */
	uint64_t failed;
};

/* Add the days in [@since, @until) (UTC midnights) of one view to
 * @days (one entry per day from @since), raw rows and rollups together:
 * @view 0 counts forwards at their exit, 1 at their entry (only those
 * through @scid; NULL: every channel). Failed means neither settled nor
 * still in flight (the rollups' "failed"). */
bool forwards_days_add(struct revenue *r, const char *scid, int view,
		       uint64_t since, uint64_t until, struct fwd_day *days,
		       char **err) __attribute__((warn_unused_result));

/* What a channel's forwards add up to over one window, combining raw rows
 * and daily rollups (a rolled-up day that reaches into the window counts
 * whole). Amounts in msat. */
struct fwd_totals {
	uint64_t out_msat;	/* forwarded out through the channel */
	uint64_t in_msat;	/* received in through the channel */
	uint64_t fee_msat;	/* earned on forwards out through it */
	uint64_t in_fee_msat;	/* earned on forwards that came in through it */
	uint64_t out_count, in_count;
	uint64_t failed_out;	/* local failures on the outgoing side */
	/* Raw rows only (rollups do not keep them): */
	uint64_t fee_failures;	/* failed out for an insufficient fee */
	uint64_t last_out_sec;	/* latest settled forward out, 0: none */
	uint64_t last_in_sec;	/* latest settled forward in, 0: none */
	uint64_t hold_count;	/* settled out with a known resolution time */
	uint64_t hold_ms_sum;	/* their resolution times (HTLC-hold premium) */
	double hold_ms_sq_sum;	/* and the sum of their squares */
	uint64_t in_credit_msat; /* settled out: out_msat x the incoming
				  * channel's spec.in_value_ppm / 1e6 */
};

/* Statistics of many channels over several windows at once. A cycle that
 * reads every channel makes one pass over the raw forwards and one over
 * the rollups, instead of several indexed queries per channel (which on
 * a node with thousands of channels cost more than all its decisions). */
#define FWD_STATS_MAX_WIN 6
#define FWD_STATS_MAX_DAYS 64

struct fwd_stats_spec {
	/* Window w counts forwards received at or after since_sec[w]. */
	uint64_t since_sec[FWD_STATS_MAX_WIN];
	size_t nwin;
	/* Optionally one more window, win[nwin], whose start differs per
	 * channel (a fee controller's observation window): chan_since()
	 * gives it, asked once per channel (UINT64_MAX: nothing counts).
	 * 1 to FWD_STATS_MAX_WIN windows in all. */
	uint64_t (*chan_since)(const char *scid, void *arg);
	void *chan_since_arg;
	/* Optionally what liquidity returned to an incoming channel is
	 * worth (ppm): credited to the outgoing channel (raw rows only). */
	double (*in_value_ppm)(const char *in_scid, void *arg);
	void *in_value_arg;
	/* Daily settled volumes for the n_days UTC days ending with the
	 * day of now_sec (0: none; at most FWD_STATS_MAX_DAYS). */
	size_t n_days;
	uint64_t now_sec;
	/* Only this channel (its rows found by index), or NULL for every
	 * channel (the whole table, read once). */
	const char *only_scid;
};

struct fwd_chan_stats {
	struct fwd_totals win[FWD_STATS_MAX_WIN];
	/* Latest rolled-up day (its start) with a settled forward out / in,
	 * among the days the widest window reaches; 0: none. */
	uint64_t rolled_last_out_day, rolled_last_in_day;
	/* Settled sat in / out per day, [0] = today (n_days entries). A
	 * day's raw rows and its rollup are each rounded down to sat. */
	const uint64_t *daily_in_sat, *daily_out_sat;
};

struct fwd_stats;

/* Compute @spec's statistics into *@out (caller frees with
 * forwards_stats_free). False with *err on a database error. */
bool forwards_stats_new(struct revenue *r, const struct fwd_stats_spec *spec,
			struct fwd_stats **out, char **err)
    __attribute__((warn_unused_result));
void forwards_stats_free(struct fwd_stats *s);
/* @scid's statistics (borrowed from @s): all zero for a channel without
 * forwards. Never NULL. */
const struct fwd_chan_stats *forwards_stats_chan(const struct fwd_stats *s,
						 const char *scid);
/* The index of @s's window starting at @since_sec, or -1: lets a reader
 * use statistics computed by its caller when they cover its windows. */
int forwards_stats_window(const struct fwd_stats *s, uint64_t since_sec);

#endif
