/* Handlers of cl-revenue-ops' RPC methods (one file per family). */
#ifndef HIVE_REVENUE_OPS_RPC_H
#define HIVE_REVENUE_OPS_RPC_H
#include <jansson.h>

struct command;
struct plugin;

void json_revenue_status(struct command *cmd, const json_t *params);
void json_revenue_hive_status(struct command *cmd, const json_t *params);
void json_revenue_config(struct command *cmd, const json_t *params);
void json_revenue_fee_authority_status(struct command *cmd,
				       const json_t *params);

/* lightningd's setconfig changed one of our options. */
char *revenue_on_setconfig(struct plugin *p, const char *name);

#endif
