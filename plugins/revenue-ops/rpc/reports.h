/* What the accounting and report RPCs share (spec §2.7, §2.8, §2.10;
 * doc/cl-revenue-ops.md "Accounting and reports"): their checks and
 * errors, and the JSON several of them show. Every report is read-only
 * (defect 38) except revenue-cleanup-closed, whose job is to archive and
 * clean. Errors: an unknown channel or peer -> 1101 naming it; a bad
 * parameter -> -32602; a failed lightningd call -> 1104 with the method
 * and its message; a database error -> 1103. Only for rpc/. */
#ifndef HIVE_REVENUE_OPS_REPORTS_H
#define HIVE_REVENUE_OPS_REPORTS_H
#include "engine/pnl.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acct_closed_row;
struct command;
struct revenue;

struct revenue *reports_revenue(struct command *cmd);
/* False (and @cmd answered) before the database and accounting run. */
bool reports_ready(struct command *cmd);
/* Answer @cmd with a database error (frees @err) / a failed live view. */
void reports_fail_db(struct command *cmd, char *err);
void reports_fail_live(struct command *cmd, const char *err);
/* False (and @cmd answered) when window_days is given outside 1..365. */
bool reports_window_param(struct command *cmd, bool present, int64_t days);

/* One channel's profitability object (new reference). */
json_t *reports_profitability_json(const struct acct_chan_pnl *p);
/* The all-channels summary (revenue-profitability, revenue-report), and
 * channels_by_class in *by_class_out when not NULL (new references). */
json_t *reports_summary_json(const struct acct_chan_pnl *v, size_t n,
			     json_t **by_class_out);
/* An archived channel as the reports show it (new reference). */
json_t *reports_closed_json(const struct acct_closed_row *c);

/* The node's lifetime revenue and costs (revenue-history and the
 * summary report). */
struct reports_lifetime {
	struct acct_flow rev;
	int64_t open_msat, closure_msat, splice_msat, rebalance_msat;
	struct pnl_lifetime_result res;
};
bool reports_lifetime(struct revenue *r, const struct acct_live *v,
		      struct reports_lifetime *lt, char **err)
    __attribute__((warn_unused_result));

#endif
