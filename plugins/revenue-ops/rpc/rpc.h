/* Handlers of cl-revenue-ops' RPC methods (one file per family). */
#ifndef HIVE_REVENUE_OPS_RPC_H
#define HIVE_REVENUE_OPS_RPC_H
#include <jansson.h>

struct command;
struct plugin;
struct revenue;

void json_revenue_status(struct command *cmd, const json_t *params);
void json_revenue_hive_status(struct command *cmd, const json_t *params);
void json_revenue_config(struct command *cmd, const json_t *params);
void json_revenue_fee_authority_status(struct command *cmd,
				       const json_t *params);

/* Make lightningd calls give up after rpc_timeout_seconds. */
void revenue_apply_rpc_timeout(struct revenue *r);

/* revenue-fee-anchor action [channel_id] [target_fee_ppm] [confidence]
 * [base_weight] [ttl_hours] [reason] (anchor.c). */
void json_revenue_fee_anchor(struct command *cmd, const json_t *params);

/* Notifications (notify.c). forward_event: reconcile the forward store
 * soon; connect, disconnect: a peer event for uptime. */
void notify_forward_event(struct plugin *p, const json_t *payload);
void notify_connect(struct plugin *p, const json_t *payload);
void notify_disconnect(struct plugin *p, const json_t *payload);

/* lightningd's setconfig changed one of our options. */
char *revenue_on_setconfig(struct plugin *p, const char *name);

#endif
