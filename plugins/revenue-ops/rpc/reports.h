/* Accounting and report RPCs of cl-revenue-ops (spec §2.7, §2.8, §2.10;
 * doc/cl-revenue-ops.md "Accounting and reports"). Every one is
 * read-only (defect 38) except revenue-cleanup-closed, whose job is to
 * archive and clean. Errors: an unknown channel or peer -> 1101 naming
 * it; a bad parameter -> -32602; a failed lightningd call -> 1104 with
 * the method and its message; a database error -> 1103. */
#ifndef HIVE_REVENUE_OPS_REPORTS_H
#define HIVE_REVENUE_OPS_REPORTS_H
#include <jansson.h>

struct command;

void json_revenue_profitability(struct command *cmd, const json_t *params);
void json_revenue_dashboard(struct command *cmd, const json_t *params);
void json_revenue_report(struct command *cmd, const json_t *params);
void json_revenue_history(struct command *cmd, const json_t *params);
void json_revenue_capacity_report(struct command *cmd, const json_t *params);
void json_revenue_cleanup_closed(struct command *cmd, const json_t *params);

/* health.c */
void json_revenue_health(struct command *cmd, const json_t *params);

/* fwd_history.c */
void json_revenue_forward_history(struct command *cmd, const json_t *params);

/* portfolio.c */
void json_revenue_portfolio(struct command *cmd, const json_t *params);
void json_revenue_portfolio_summary(struct command *cmd, const json_t *params);
void json_revenue_portfolio_rebalance(struct command *cmd,
				      const json_t *params);
void json_revenue_portfolio_correlations(struct command *cmd,
					 const json_t *params);

#endif
