/* The handlers main.c's tables name: every RPC method and notification
 * of cl-revenue-ops, by the file that implements it. A handler reads the
 * stores, asks a cycle for work (or a fresh view of the node), and
 * answers; it never writes behind a cycle's back except where its method
 * is a write (revenue-config, revenue-policy, revenue-fee-anchor,
 * revenue-set-fee, revenue-cleanup-closed, revenue-remanage). */
#ifndef HIVE_REVENUE_OPS_RPC_H
#define HIVE_REVENUE_OPS_RPC_H
#include <jansson.h>

struct command;
struct plugin;
struct revenue;

/* status.c */
void json_revenue_status(struct command *cmd, const json_t *params);
void json_revenue_hive_status(struct command *cmd, const json_t *params);

/* config.c */
void json_revenue_config(struct command *cmd, const json_t *params);
void json_revenue_fee_authority_status(struct command *cmd,
				       const json_t *params);
/* Make lightningd calls give up after rpc_timeout_seconds. */
void revenue_apply_rpc_timeout(struct revenue *r);
/* lightningd's setconfig changed one of our options. */
char *revenue_on_setconfig(struct plugin *p, const char *name);

/* fee.c: running the cycles, setting a fee by hand */
void json_revenue_wake_all(struct command *cmd, const json_t *params);
void json_revenue_cycle(struct command *cmd, const json_t *params);
void json_revenue_fee_cycle(struct command *cmd, const json_t *params);
void json_revenue_set_fee(struct command *cmd, const json_t *params);

/* fee_debug.c, analyze.c: the decisions explained, read only */
void json_revenue_fee_debug(struct command *cmd, const json_t *params);
void json_revenue_analyze(struct command *cmd, const json_t *params);

/* anchor.c: revenue-fee-anchor action [channel_id] [target_fee_ppm]
 * [confidence] [base_weight] [ttl_hours] [reason] */
void json_revenue_fee_anchor(struct command *cmd, const json_t *params);

/* policy.c */
void json_revenue_policy(struct command *cmd, const json_t *params);
void json_revenue_ignore(struct command *cmd, const json_t *params);
void json_revenue_unignore(struct command *cmd, const json_t *params);
void json_revenue_list_ignored(struct command *cmd, const json_t *params);
void json_revenue_ban(struct command *cmd, const json_t *params);
void json_revenue_unban(struct command *cmd, const json_t *params);
void json_revenue_list_banned(struct command *cmd, const json_t *params);

/* clboss.c */
void json_revenue_clboss_status(struct command *cmd, const json_t *params);
void json_revenue_remanage(struct command *cmd, const json_t *params);

/* Accounting and reports (reports.h): reports.c, report.c, history.c,
 * capacity.c, cleanup.c, health.c, fwd_history.c, portfolio.c. */
void json_revenue_profitability(struct command *cmd, const json_t *params);
void json_revenue_dashboard(struct command *cmd, const json_t *params);
void json_revenue_report(struct command *cmd, const json_t *params);
void json_revenue_history(struct command *cmd, const json_t *params);
void json_revenue_capacity_report(struct command *cmd, const json_t *params);
void json_revenue_cleanup_closed(struct command *cmd, const json_t *params);
void json_revenue_health(struct command *cmd, const json_t *params);
void json_revenue_forward_history(struct command *cmd, const json_t *params);
void json_revenue_portfolio(struct command *cmd, const json_t *params);
void json_revenue_portfolio_summary(struct command *cmd, const json_t *params);
void json_revenue_portfolio_rebalance(struct command *cmd,
				      const json_t *params);
void json_revenue_portfolio_correlations(struct command *cmd,
					 const json_t *params);

/* notify.c: forward_event reconciles the forward store soon; connect and
 * disconnect record a peer event for uptime. */
void on_forward_event(struct plugin *p, const json_t *payload);
void on_peer_connect(struct plugin *p, const json_t *payload);
void on_peer_disconnect(struct plugin *p, const json_t *payload);

#endif
