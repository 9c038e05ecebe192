/* The engine's parameters from the live settings (base/config.h): one
 * mapping, read afresh by every cycle and by the RPCs that explain a
 * decision, so they always agree. */
#ifndef HIVE_REVENUE_OPS_PARAMS_H
#define HIVE_REVENUE_OPS_PARAMS_H
#include "engine/fee_ctl.h"
#include "engine/flow.h"
#include "engine/reputation.h"

struct ro_config;

void params_fee_ctl(const struct ro_config *c, struct fee_ctl_params *p);
void params_flow(const struct ro_config *c, struct flow_params *p);
void params_reputation(const struct ro_config *c,
		       struct reputation_params *p);

#endif
